"""What the benchmarks share: a lean asyncio HTTP client, servers, a database, statistics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def database_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- database


def recreate_database(name: str, *, root: Path = ROOT) -> str:
    """A fresh, migrated database for one benchmark run; returns its URL.

    `root`: the checkout whose migrations to run (another worktree, for a baseline)."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = database_url(name)
    subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "migrate", "--noinput", "-v0"],
        cwd=root,
        env=server_env(url),
        check=True,
    )
    return url


def open_connections(name: str) -> int:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]
        ).fetchone()
    return int(row[0]) if row else 0


@contextlib.contextmanager
def connection_sampler(name: str, every: float = 0.05) -> Iterator[list[int]]:
    """Samples the number of open connections to `name` while the block runs."""
    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            while not done.is_set():
                row = admin.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]
                ).fetchone()
                samples.append(int(row[0]) if row else 0)
                done.wait(every)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        done.set()
        thread.join(timeout=5)


# ---------------------------------------------------------------- servers


# Production reads sessions from Redis when it has one (REDIS_URL); so do the
# benchmarks, when one answers here. BENCH_REDIS_URL= (empty) measures without.
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_reachable(url: str) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def server_env(database: str, **overrides: str) -> dict[str, str]:
    """Production settings over plain HTTP, with the default limits."""
    redis = (
        {"REDIS_URL": BENCH_REDIS_URL, "CACHE_KEY_PREFIX": f"bench-{database}"}
        if redis_reachable(BENCH_REDIS_URL)
        else {"REDIS_URL": ""}
    )
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdefghijklmnop",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database,
        "SMS_BACKEND": "demo",
        "DEMO_MODE": "1",
        "LOG_LEVEL": "WARNING",
        "OTP_SEND_DELAY": "1.0,2.0",
        # The hourly SMS budgets (default 1,000 / 200 per country code) would stop
        # a burst of thousands of code requests from one country in a run.
        "OTP_GLOBAL_HOURLY": "1000000",
        "OTP_REGION_HOURLY": "1000000",
        "OTP_PREFIX_HOURLY": "1000000",
        # Production settings plus the bare view the profile is compared with.
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        **redis,
    }
    env.update(overrides)
    return env


SERVING_MODELS = {
    # `make serve`: threaded WSGI workers (the production set-up).
    "threaded": lambda port, workers: ["make", "-s", "serve", f"PORT={port}", f"WEB_CONCURRENCY={workers}"],
    # The usual set-up elsewhere: one request per process at a time.
    "sync": lambda port, workers: [
        str(VENV_BIN / "gunicorn"), "site_config.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--worker-class", "sync", "--timeout", "120",
    ],
    # Sync workers with one persistent connection each (bench/settings.py): the
    # usual set-up for reads, with no pool and no thread switches.
    "sync-persistent": lambda port, workers: [
        str(VENV_BIN / "gunicorn"), "site_config.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--worker-class", "sync", "--timeout", "120",
    ],
    # ASGI: Django runs sync views on one thread per worker (thread_sensitive).
    "uvicorn": lambda port, workers: [
        str(VENV_BIN / "gunicorn"), "site_config.asgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--worker-class", "uvicorn_worker.UvicornWorker", "--timeout", "120",
    ],
}  # fmt: skip


@dataclass
class Server:
    model: str
    port: int
    env: dict[str, str]
    workers: int = 2
    # The checkout to serve: another worktree serves the old code for a same-run baseline.
    root: Path = ROOT
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Server:
        if self.model == "sync-persistent":
            self.env = {**self.env, "BENCH_PERSISTENT": "1"}
        self.process = subprocess.Popen(
            SERVING_MODELS[self.model](self.port, self.workers),
            cwd=self.root,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.model} server exited with {self.process.returncode}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response,  # noqa: S310
            ):
                if response.status == 200:
                    return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.model} server did not answer /healthz in {timeout} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------- lean HTTP client


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> dict:
        return json.loads(self.body) if self.body else {}


async def http(
    base_url: str,
    method: str,
    path: str,
    *,
    body: dict | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
    source: str | None = None,
) -> Reply:
    """One HTTP/1.1 request on its own connection: as little client work as possible.

    `source` picks the client address: any of 127.0.0.0/8 works on loopback, so a
    burst can come from many clients, as it would in production.
    """
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    payload = json.dumps(body).encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    started = time.perf_counter()

    async def exchange() -> bytes:
        local = (source, 0) if source else None
        reader, writer = await asyncio.open_connection(host, port, local_addr=local)
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        await writer.drain()
        raw = await reader.read()
        writer.close()
        return raw

    raw = await asyncio.wait_for(exchange(), timeout)
    head, _, rest = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    found = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return Reply(int(status_line.split()[1]), found, rest, time.perf_counter() - started)


def percentile(values: Sequence[float], pct: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# ---------------------------------------------------------------- results for the report

RESULTS_DIR = ROOT / "bench" / ".results"


def save_results(name: str, results: dict) -> Path:
    """What `bench.report` prints as the table of targets (JSON, one file per script)."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(results, indent=2, sort_keys=True))
    return path


def load_results(name: str) -> dict | None:
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None
