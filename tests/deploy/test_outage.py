"""The outage drill: a PostgreSQL cluster of the test's own stopped and started under `make serve`.

While the database is down every request that needs it answers 503 with
Retry-After within ~2 s (the API in its error shape, the web face with what
was typed), /healthz within 1 s, none 500; afterwards the same server serves
again without a restart and nothing committed is lost. The shared cluster on
5432 is never touched: this one lives on a free port and is dropped at the end.
"""

import http.client
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.deploy.conftest import DEMO_SERVE_ENV, Answer, Browser, Server, free_port, manage
from tests.deploy.conftest import process_env as production_env

# Within ~2 s (DB_POOL_TIMEOUT is 2 s) with room for a loaded CI machine; /healthz within 1 s.
REQUEST_DEADLINE = 2.6
PG_CTLCLUSTER = ("pg_ctlcluster", "--skip-systemctl-redirect")
HEALTH_DEADLINE = 1.0


def _why_no_cluster() -> str | None:
    if shutil.which("pg_createcluster") is None or shutil.which("pg_ctlcluster") is None:
        return "pg_createcluster/pg_ctlcluster not installed (Debian's postgresql-common)"
    if os.geteuid() != 0:
        return "pg_createcluster and pg_ctlcluster need root"
    if not _versions():
        return "no PostgreSQL server version under /etc/postgresql"
    return None


def _versions() -> list[str]:
    root = Path("/etc/postgresql")
    names = [path.name for path in root.iterdir()] if root.is_dir() else []
    return sorted((name for name in names if name.replace(".", "").isdigit()), key=float)


def _run(*command: str) -> None:
    result = subprocess.run(  # noqa: S603 - fixed arguments
        command, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"


@dataclass
class Cluster:
    version: str
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/referral"

    # Straight to pg_ctl, as .ci/run does: where systemd runs, pg_ctlcluster would
    # hand the cluster to a unit of its own.
    def stop(self) -> None:
        _run(*PG_CTLCLUSTER, self.version, self.name, "stop", "-m", "fast")

    def start(self) -> None:
        _run(*PG_CTLCLUSTER, self.version, self.name, "start")


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    reason = _why_no_cluster()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"the outage drill must run in CI: {reason}")
        pytest.skip(reason)
    port = free_port()
    cluster = Cluster(version=_versions()[-1], name=f"outage{port}", port=port)
    _run(
        "pg_createcluster", "-p", str(port), cluster.version, cluster.name,
        "--", "--auth=trust",
    )  # fmt: skip
    try:
        cluster.start()
        admin = f"postgres://postgres@127.0.0.1:{port}/postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute("CREATE DATABASE referral")
        migrated = manage("migrate", "--noinput", env=production_env(DATABASE_URL=cluster.url))
        assert migrated.returncode == 0, migrated.stderr
        yield cluster
    finally:
        subprocess.run(  # noqa: S603 - fixed arguments; fails harmlessly when already stopped
            [*PG_CTLCLUSTER, cluster.version, cluster.name, "stop", "-m", "immediate"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        _run("pg_dropcluster", cluster.version, cluster.name)


@dataclass
class Seen:
    label: str
    method: str
    path: str
    answer: Answer
    seconds: float

    def line(self) -> str:
        return (
            f"{self.answer.status} {self.seconds:5.2f} s  {self.method} {self.path}  ({self.label})"
        )


def _api(
    server: Server, method: str, path: str, body: dict | None = None, token: str = ""
) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=json.dumps(body) if body else None, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def _timed(label: str, method: str, path: str, send: Callable[[], Answer]) -> Seen:
    started = time.monotonic()
    answer = send()
    return Seen(label, method, path, answer, time.monotonic() - started)


def _demo_code(answer: Answer, browser: Browser, server: Server) -> str:
    """The code shown on the code screen the phone form's answer (303) leads to."""
    assert answer.status == 303, answer.text
    answer = browser.request(server, "GET", answer.headers["Location"])
    found = re.search(r'data-demo-code="(\d{4})"', answer.text)
    assert found, answer.text
    return found[1]


@pytest.fixture(params=["direct", "pgbouncer"])
def database_route(request, own_cluster) -> Iterator[dict[str, str]]:
    """The app's environment for reaching the cluster: straight, or through PgBouncer.

    PgBouncer holds a client without a server for query_wait_timeout (120 s by
    default): through it, the drill checks that site_config/pgbouncer.ini keeps
    the outage rule.
    """
    if request.param == "direct":
        yield {"DATABASE_URL": own_cluster.url}
        return
    from tests.pgbouncer import pgbouncer, why_no_pgbouncer

    reason = why_no_pgbouncer()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with pgbouncer(server_host="127.0.0.1", server_port=own_cluster.port) as bouncer:
        yield {"DATABASE_URL": bouncer.url("referral"), "DB_PGBOUNCER": "1"}


@pytest.mark.postgres
def test_database_outage_answers_503_fast_and_recovers_without_a_restart(
    own_cluster, database_route, serve, capsys
):
    server = serve(**database_route, **DEMO_SERVE_ENV)

    # Before: a member signed in on the web, an API client with a token who
    # entered that member's invite code, a visitor halfway through sign-in.
    member = Browser()
    member.request(server, "GET", "/")
    code = _demo_code(
        member.post(server, "/auth/phone/", {"phone": "+79990003001"}), member, server
    )
    assert member.post(server, "/auth/code/", {"code": code}).status == 302
    profile_page = member.request(server, "GET", "/profile/")
    invite_code = re.search(r'data-invite-code="([A-Z0-9]+)"', profile_page.text)[1]

    sent = json.loads(_api(server, "POST", "/api/v1/auth/code/", {"phone": "+79990003002"}).body)
    # Whatever the code answer carries to bind the token request (a challenge), goes back.
    extra = {key: sent[key] for key in ("challenge",) if key in sent}
    token_body = {"phone": "+79990003002", "code": sent["demo_code"], **extra}
    tokens = json.loads(_api(server, "POST", "/api/v1/auth/token/", token_body).body)
    access = tokens["access"]
    activated = _api(
        server, "POST", "/api/v1/profile/invite/", {"invite_code": invite_code}, access
    )
    assert activated.status == 200, activated.text

    halfway = Browser()
    halfway.request(server, "GET", "/")
    pending_code = _demo_code(
        halfway.post(server, "/auth/phone/", {"phone": "+79990003003"}), halfway, server
    )
    newcomer = Browser()
    newcomer.request(server, "GET", "/")

    def mix() -> list[Seen]:
        requests = [
            ("probe", "GET", "/healthz", lambda: Browser().request(server, "GET", "/healthz")),
            ("member", "GET", "/profile/", lambda: member.request(server, "GET", "/profile/")),
            ("member", "GET", "/", lambda: member.request(server, "GET", "/")),
            (
                "newcomer",
                "POST",
                "/auth/phone/",
                lambda: newcomer.post(server, "/auth/phone/", {"phone": "+7 999 000-30-04"}),
            ),
            (
                "halfway",
                "POST",
                "/auth/code/",
                lambda: halfway.post(server, "/auth/code/", {"code": pending_code}),
            ),
            (
                "api",
                "POST",
                "/api/v1/auth/code/",
                lambda: _api(server, "POST", "/api/v1/auth/code/", {"phone": "+79990003005"}),
            ),
            (
                "api",
                "POST",
                "/api/v1/auth/token/",
                lambda: _api(server, "POST", "/api/v1/auth/token/", token_body),
            ),
            (
                "api",
                "GET",
                "/api/v1/profile/",
                lambda: _api(server, "GET", "/api/v1/profile/", token=access),
            ),
        ]
        with ThreadPoolExecutor(len(requests)) as pool:
            futures = [
                pool.submit(_timed, label, method, path, send)
                for label, method, path, send in requests
            ]
            return [future.result() for future in futures]

    own_cluster.stop()
    seen: list[Seen] = []
    try:
        for _ in range(2):
            seen += mix()
            time.sleep(0.5)
    finally:
        own_cluster.start()
        # Into the run's log even when the test passes (pytest keeps captured output for failures).
        with capsys.disabled():
            print("\nAnswers while PostgreSQL was stopped (status, seconds, request):")
            print("\n".join(f"  {answer.line()}" for answer in seen))

    for answer in seen:
        assert answer.answer.status == 503, answer.line()
        assert answer.answer.headers["Retry-After"] == "5", answer.line()
        deadline = HEALTH_DEADLINE if answer.path == "/healthz" else REQUEST_DEADLINE
        assert answer.seconds < deadline, answer.line()
        if answer.path.startswith("/api/"):
            body = json.loads(answer.answer.body)
            assert body["code"] == "service_unavailable", answer.line()
            assert body["detail"], answer.line()
    typed_phone = [answer for answer in seen if answer.path == "/auth/phone/"][0]
    assert 'value="+7 999 000-30-04"' in typed_phone.answer.text
    typed_code = [answer for answer in seen if answer.path == "/auth/code/"][0]
    assert f'value="{pending_code}"' in typed_code.answer.text
    assert "Traceback" not in server.output()

    # Recovery: the same process serves again once PostgreSQL is back.
    started = time.monotonic()
    while Browser().request(server, "GET", "/healthz").status != 200:
        assert time.monotonic() - started < 30, server.output()
        time.sleep(0.2)
    with capsys.disabled():
        print(f"  serving again {time.monotonic() - started:.1f} s after PostgreSQL started")

    assert member.request(server, "GET", "/profile/").status == 200  # still signed in
    assert halfway.post(server, "/auth/code/", {"code": pending_code}).status == 302
    assert newcomer.post(server, "/auth/phone/", {"phone": "+7 999 000-30-04"}).status == 303
    assert _api(server, "POST", "/api/v1/auth/code/", {"phone": "+79990003005"}).status == 202
    after = _api(server, "GET", "/api/v1/profile/", token=access)
    assert after.status == 200, after.text
    assert json.loads(after.body)["activated_invite_code"] == invite_code  # committed, kept


def test_a_browser_sees_the_notice_in_place_with_its_typed_phone(serve, browser):
    """htmx swaps the 503 answer into the card (base.html's responseHandling), JavaScript on."""
    from playwright.sync_api import expect

    nowhere = f"postgres://postgres@127.0.0.1:{free_port()}/nowhere"
    server = serve(ready_status=503, DATABASE_URL=nowhere, SECURE_SSL_REDIRECT="0")
    home = f"http://127.0.0.1:{server.port}/"
    page = browser.new_page()
    try:
        page.goto(home)
        page.fill("#id_phone", "+7 999 123-45-67")
        page.click("#auth-card button[type=submit]")

        notice = page.locator("#auth-card .form-error")
        expect(notice).to_contain_text("briefly unavailable", timeout=10_000)
        expect(page.locator("#id_phone")).to_have_value("+7 999 123-45-67")
        assert page.url == home  # swapped in place, no navigation
    finally:
        page.close()
