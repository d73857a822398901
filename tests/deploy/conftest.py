"""Production-like processes for the deploy tests: `manage.py` commands and `make serve`.

Every setting the tests rely on is passed explicitly, so neither the developer's
shell nor a `.env` file can change the outcome.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "deploy-tests-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"

# The documented production variables (docs/operations.md), for a local run.
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": SECRET_KEY,
    "WEBHOOK_SECRET_KEY": "deploy-tests-only-webhook-key-0123456789-abcdefghij",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "CSRF_TRUSTED_ORIGINS": "https://referral.example.com",
    "SMS_BACKEND": "console",
    "DEMO_MODE": "0",
}
# What the two-server test and docker-compose add on top: plain HTTP, codes on the page.
DEMO_SERVE_ENV = {
    "SECURE_SSL_REDIRECT": "0",
    "SMS_BACKEND": "demo",
    "DEMO_MODE": "1",
    "OTP_SEND_DELAY": "0,0",
    "OTP_RESEND_COOLDOWN": "60",
}


def process_env(**overrides: str) -> dict[str, str]:
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE belongs to the test process only.
    test_only = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {key: value for key, value in os.environ.items() if key not in test_only}
    env.update(PRODUCTION_ENV)
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def serve_database_url() -> Iterator[str]:
    """A database of its own for the servers, migrated, dropped afterwards."""
    test_url = os.environ.get("DATABASE_URL", "")
    if not test_url.startswith(("postgres://", "postgresql://")):
        pytest.skip("the servers need PostgreSQL (DATABASE_URL)")
    parts = urlsplit(test_url)
    name = f"{parts.path.lstrip('/')}_serve"
    admin_url = parts._replace(path="/postgres").geturl()

    def recreate(*, create: bool) -> None:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            if create:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    recreate(create=True)
    url = parts._replace(path=f"/{name}").geturl()
    migrated = manage("migrate", "--noinput", env=process_env(DATABASE_URL=url))
    assert migrated.returncode == 0, migrated.stderr
    yield url
    recreate(create=False)


@dataclass
class Server:
    """One `make serve` process group and its log."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def terminate(self) -> None:
        """SIGTERM to the whole group, as a supervisor or container runtime does."""
        self._signal(signal.SIGTERM)

    def stopped_within(self, seconds: float) -> bool:
        """Whether make, gunicorn and its workers have all exited within `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            # Reap make first: a zombie leader would keep the group alive.
            if self.process.poll() is not None and not self._signal(0):
                return True
            time.sleep(0.05)
        return False

    def kill(self) -> None:
        self._signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def _signal(self, number: int) -> bool:
        try:
            os.killpg(self.process.pid, number)
        except ProcessLookupError:
            return False
        return True


class Servers:
    """Starts `make serve` processes with production settings and ends them all."""

    def __init__(self, directory: Path) -> None:
        make = shutil.which("make")
        if make is None:
            pytest.skip("make is not installed")
        self.make = make
        self.directory = directory
        self.started: list[Server] = []

    def start(self, *, ready_status: int = 200, **env: str) -> Server:
        port = free_port()
        log = self.directory / f"serve-{port}.log"
        process = subprocess.Popen(  # noqa: S603 - fixed arguments
            # -o: the suite already runs in the installed .venv; a stale stamp must
            # not make a server start reinstall packages in the middle of a test.
            [self.make, "-s", "-o", ".venv/.installed", "serve"],
            cwd=ROOT,
            env=process_env(
                **{
                    "PORT": str(port),
                    "WEB_CONCURRENCY": "1",
                    # Its own static root: servers in parallel must not collect into one directory.
                    "STATIC_ROOT": str(self.directory / f"static-{port}"),
                    **env,
                }
            ),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = Server(port=port, process=process, log=log)
        self.started.append(server)
        _wait_until_answering(server, ready_status)
        return server

    def kill_all(self) -> None:
        for server in self.started:
            server.kill()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """`serve(**env)` starts a production server; none outlives the test."""
    servers = Servers(tmp_path)
    yield servers.start
    servers.kill_all()


@pytest.fixture(scope="module")
def demo_servers(
    tmp_path_factory: pytest.TempPathFactory, serve_database_url: str
) -> Iterator[tuple[Server, Server]]:
    """Two app processes on one database, configured like the docker-compose demo."""
    servers = Servers(tmp_path_factory.mktemp("serve"))
    try:
        yield (
            servers.start(DATABASE_URL=serve_database_url, **DEMO_SERVE_ENV),
            servers.start(DATABASE_URL=serve_database_url, **DEMO_SERVE_ENV),
        )
    finally:
        servers.kill_all()


def _wait_until_answering(server: Server, status: int, timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"make serve exited with {server.process.returncode}:\n{server.output()}")
        try:
            answer = Browser().request(server, "GET", "/healthz")
        except OSError:
            time.sleep(0.2)
            continue
        assert answer.status == status, server.output()
        return
    pytest.fail(f"make serve did not answer within {timeout} s:\n{server.output()}")


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


@dataclass
class Browser:
    """Just enough of a browser: keeps cookies across servers, sends forms.

    The cookies are Secure (DEBUG off) and the servers speak plain HTTP, which
    a stdlib cookie jar would refuse; a TLS proxy would sit in front in production.
    """

    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        server: Server,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            answer = Answer(response.status, response.headers, response.read())
        finally:
            connection.close()
        for header in answer.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return answer

    def post(self, server: Server, path: str, form: dict[str, str]) -> Answer:
        return self.request(
            server, "POST", path, {**form, "csrfmiddlewaretoken": self.cookies["csrftoken"]}
        )


def post_code(server: Server, phone: str) -> tuple[int, str]:
    """POST /api/v1/auth/code/ for `phone`: the status and the error code, if any."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(
            "POST",
            "/api/v1/auth/code/",
            body=json.dumps({"phone": phone}),
            headers={"Content-Type": "application/json"},
        )
        response = connection.getresponse()
        body = json.loads(response.read() or b"{}")
    finally:
        connection.close()
    return response.status, body.get("code", "")
