"""`make serve` as production runs it: stateless processes sharing one PostgreSQL."""

import gzip
import json
import re
import runpy
import socket
import time
from pathlib import Path

import pytest

from tests.deploy.conftest import DEMO_SERVE_ENV, Browser, Server, free_port


def _request_code(browser: Browser, server: Server, phone: str) -> str:
    assert browser.request(server, "GET", "/").status == 200
    asked = browser.post(server, "/auth/phone/", {"phone": phone})
    assert asked.status == 303, asked.text
    assert asked.headers["Location"] == "/auth/code/"
    sent = browser.request(server, "GET", "/auth/code/")
    assert sent.status == 200, sent.text
    found = re.search(r'data-demo-code="(\d{4})"', sent.text)
    assert found, sent.text
    return found[1]


@pytest.mark.postgres
def test_code_requested_through_one_server_signs_in_through_the_other(demo_servers):
    first, second = demo_servers
    browser = Browser()
    code = _request_code(browser, first, "+79990001001")

    verified = browser.post(second, "/auth/code/", {"code": code})
    assert verified.status == 302, verified.text
    assert verified.headers["Location"] == "/profile/"
    profile = browser.request(first, "GET", "/profile/")
    assert profile.status == 200
    assert "data-invite-code=" in profile.text
    # Production logging: the event lines reach the server log, phone masked.
    assert "code requested phone=+7999***1001" in first.output()
    assert "code verified phone=+7999***1001" in second.output()


@pytest.mark.postgres
def test_resend_cooldown_set_through_one_server_holds_on_the_other(demo_servers):
    first, second = demo_servers
    browser = Browser()
    _request_code(browser, first, "+79990001002")

    resent = browser.post(second, "/auth/phone/", {"phone": "+79990001002", "resend": "1"})
    assert resent.status == 429
    assert 0 < int(resent.headers["Retry-After"]) <= 60


@pytest.mark.postgres
def test_servers_stop_within_seconds_on_sigterm(serve, serve_database_url):
    servers = [serve(DATABASE_URL=serve_database_url, **DEMO_SERVE_ENV) for _ in range(2)]
    for server in servers:
        assert Browser().request(server, "GET", "/").status == 200

    started = time.monotonic()
    for server in servers:
        server.terminate()
    for server in servers:
        assert server.stopped_within(8), server.output()
    assert time.monotonic() - started < 8
    for server in servers:
        assert "Shutting down: Master" in server.output()
        assert "Traceback" not in server.output()


@pytest.mark.postgres
def test_static_files_are_served_hashed_compressed_and_cached_for_a_year(serve, serve_database_url):
    server = serve(DATABASE_URL=serve_database_url, SECURE_SSL_REDIRECT="0")
    page = Browser().request(server, "GET", "/")
    stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page.text)
    assert stylesheet, page.text

    answer = Browser().request(server, "GET", stylesheet[1], headers={"Accept-Encoding": "gzip"})
    assert answer.status == 200
    assert "max-age=315360000" in answer.headers["Cache-Control"]
    assert "immutable" in answer.headers["Cache-Control"]
    assert answer.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(answer.body)

    health = Browser().request(server, "GET", "/healthz")
    assert health.status == 200
    assert json.loads(health.body) == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_while_the_database_is_unreachable(serve):
    nowhere = f"postgres://postgres@127.0.0.1:{free_port()}/nowhere"
    server = serve(ready_status=503, DATABASE_URL=nowhere, DB_POOL_TIMEOUT="1")

    answer = Browser().request(server, "GET", "/healthz")
    assert answer.status == 503
    assert json.loads(answer.body) == {"status": "error", "database": "unreachable"}


# --- What gunicorn itself decides, and the language cookie ---


def _raw(server: Server, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


@pytest.mark.postgres
def test_without_a_trusted_proxy_a_direct_client_cannot_claim_https(serve, serve_database_url):
    server = serve(
        DATABASE_URL=serve_database_url, SECURE_SSL_REDIRECT="1", TRUSTED_PROXY_COUNT="0"
    )

    # From 127.0.0.1, which gunicorn trusts by default: the claim must change nothing.
    answer = Browser().request(server, "GET", "/", headers={"X-Forwarded-Proto": "https"})

    assert answer.status == 301
    assert answer.headers["Location"].startswith("https://")


@pytest.mark.postgres
def test_language_cookie_is_secure_httponly_and_same_site_in_production(demo_servers):
    server = demo_servers[0]
    browser = Browser()
    browser.request(server, "GET", "/")

    answer = browser.post(server, "/i18n/setlang/", {"language": "ru", "next": "/"})

    assert answer.status == 302
    (cookie,) = [
        header
        for header in answer.headers.get_all("Set-Cookie")
        if header.startswith("django_language=")
    ]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly"} <= attributes
    assert "SameSite=Lax" in cookie


@pytest.mark.postgres
def test_gunicorn_refuses_an_overlong_request_line_and_a_nul_in_a_header(demo_servers):
    """Answered by gunicorn before the app (its own HTML; docs/deploy.md says so)."""
    server = demo_servers[0]

    too_long = _raw(server, b"GET /?q=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    nul = _raw(server, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Note: a\x00b\r\n\r\n")

    assert too_long.startswith(b"HTTP/1.1 414 ")
    assert nul.startswith(b"HTTP/1.1 400 ")
    # Ordinary requests are untouched by the limits.
    assert Browser().request(server, "GET", "/?next=/profile/&invite=ABC234").status == 200


def test_a_worker_accepts_few_more_connections_than_it_has_threads(monkeypatch, tmp_path):
    # Past its threads a worker queues connections the other worker cannot take: a
    # burst then waits on the busier worker while the other has threads free.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("GUNICORN_THREADS", "100")
    config = runpy.run_path(str(Path(__file__).parents[2] / "site_config" / "gunicorn.conf.py"))
    assert config["threads"] == 100
    assert config["worker_connections"] == 132


def test_the_server_refuses_to_start_with_a_bad_admission_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("WEB_ADMISSION_WAIT", "0")
    with pytest.raises(ValueError, match="WEB_ADMISSION_WAIT"):
        runpy.run_path(str(Path(__file__).parents[2] / "site_config" / "gunicorn.conf.py"))
    monkeypatch.setenv("WEB_ADMISSION_WAIT", "1.5")
    config = runpy.run_path(str(Path(__file__).parents[2] / "site_config" / "gunicorn.conf.py"))
    assert config["worker_class"] == "core.gunicorn_worker.ThreadWorker"
    assert (config["admission_slots"], config["admission_wait"]) == (4, 1.5)
