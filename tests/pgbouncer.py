"""PgBouncer in transaction pooling mode, started by a test in front of a PostgreSQL.

Debian's `pgbouncer` (scripts/install-test-tools). The pooling values come from
site_config/pgbouncer.ini, the file operators start from, so the tests go
through what is shipped; only where it listens and which server it fronts are
the test's own. PgBouncer refuses to run as root: as root it runs as `postgres`.
"""

import configparser
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "site_config" / "pgbouncer.ini"
# Where the test decides (listening, auth, files), not the pooling values.
OWN_KEYS = {"listen_addr", "listen_port", "auth_type", "auth_file", "logfile", "pidfile"}


def why_no_pgbouncer() -> str | None:
    if shutil.which("pgbouncer") is None:
        return "pgbouncer is not installed (Debian's pgbouncer: scripts/install-test-tools)"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PgBouncer:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def url(self, database: str, user: str = "postgres") -> str:
        return f"postgres://{user}@127.0.0.1:{self.port}/{database}"


def shipped_settings() -> dict[str, str]:
    parser = configparser.ConfigParser(delimiters=("=",), comment_prefixes=(";", "#"))
    parser.read(SHIPPED)
    return {k: v for k, v in parser["pgbouncer"].items() if k not in OWN_KEYS}


@contextmanager
def pgbouncer(*, server_host: str, server_port: int, **overrides: str) -> Iterator[PgBouncer]:
    """PgBouncer on a free port in front of `server_host:server_port` (trust auth), then gone."""
    reason = why_no_pgbouncer()
    if reason:
        raise RuntimeError(reason)
    directory = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(directory, account.pw_uid, account.pw_gid)
        run_as = ["-u", "postgres"]
    port = _free_port()
    log = directory / "pgbouncer.log"
    (directory / "users.txt").write_text('"postgres" ""\n')
    values = {
        **shipped_settings(),
        "listen_addr": "127.0.0.1",
        "listen_port": str(port),
        "unix_socket_dir": "",
        "auth_type": "trust",
        "auth_file": str(directory / "users.txt"),
        "logfile": str(log),
        **overrides,
    }
    config = directory / "pgbouncer.ini"
    config.write_text(
        f"[databases]\n* = host={server_host} port={server_port}\n\n[pgbouncer]\n"
        + "".join(f"{key} = {value}\n" for key, value in values.items())
    )
    if run_as:
        for path in directory.iterdir():
            shutil.chown(path, "postgres", "postgres")
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        ["pgbouncer", *run_as, str(config)],  # noqa: S607 - Debian's pgbouncer on PATH
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    bouncer = PgBouncer(port=port, process=process, log=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pgbouncer did not start:\n{bouncer.output()}") from None
                time.sleep(0.05)
        yield bouncer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)
