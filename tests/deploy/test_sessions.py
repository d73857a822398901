"""Sessions shared through Redis (`REDIS_URL`, `cached_db`) by separate server processes."""

import os
import re
import shutil
import signal
import subprocess
import time
import uuid

import pytest
import redis

from tests.deploy.conftest import DEMO_SERVE_ENV, Browser, free_port
from tests.deploy.test_serve import _request_code

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")

pytestmark = pytest.mark.postgres


@pytest.fixture
def redis_env() -> dict[str, str]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"sessions-test-{uuid.uuid4().hex[:8]}"
    yield {"REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix}
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def cached_session_keys(prefix: str) -> list[bytes]:
    return list(redis.Redis.from_url(REDIS_URL).scan_iter(f"{prefix}:*session*"))


def test_a_session_is_shared_by_processes_and_sign_out_ends_it_on_all(
    serve, serve_database_url, redis_env
):
    first, second = (
        serve(DATABASE_URL=serve_database_url, **DEMO_SERVE_ENV, **redis_env) for _ in range(2)
    )
    browser = Browser()
    code = _request_code(browser, first, "+79990001101")
    assert browser.post(first, "/auth/code/", {"code": code}).status == 302
    session = browser.cookies["sessionid"]

    # The other process knows the session, read from the shared Redis.
    other_tab = Browser(cookies=dict(browser.cookies))
    assert other_tab.request(second, "GET", "/profile/").status == 200
    assert cached_session_keys(redis_env["CACHE_KEY_PREFIX"])
    # Reading a page changes nothing, so nothing is written back.
    page = browser.request(second, "GET", "/profile/")
    assert page.status == 200
    assert "sessionid" not in (page.headers.get("Set-Cookie") or "")

    # Signing out through one process ends the session everywhere at once.
    assert browser.post(second, "/auth/logout/", {}).status == 302
    for server in (first, second):
        other_tab.cookies["sessionid"] = session
        answer = other_tab.request(server, "GET", "/profile/")
        assert answer.status == 302 and answer.headers["Location"].startswith("/?next=")


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, which it may stop (SIGSTOP) and resume."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [binary, "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_timeout=1)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield process, f"redis://127.0.0.1:{port}/0"
    process.send_signal(signal.SIGCONT)
    process.kill()
    process.wait(timeout=10)


def test_a_sign_out_while_redis_hangs_stays_a_sign_out_when_it_resumes(
    serve, serve_database_url, own_redis
):
    redis_server, url = own_redis
    server = serve(DATABASE_URL=serve_database_url, **DEMO_SERVE_ENV, REDIS_URL=url)
    browser = Browser()
    code = _request_code(browser, server, "+79990001102")
    assert browser.post(server, "/auth/code/", {"code": code}).status == 302
    page = browser.request(server, "GET", "/profile/")
    version = re.search(r"\?v=([^\"]+)\"", page.text)[1]
    poll = f"/profile/referrals/?v={version}"
    htmx = {"HX-Request": "true"}
    assert browser.request(server, "GET", poll, headers=htmx).status == 204  # from Redis
    stolen = Browser(cookies=dict(browser.cookies))

    redis_server.send_signal(signal.SIGSTOP)
    try:
        assert browser.post(server, "/auth/logout/", {}).status == 302
    finally:
        redis_server.send_signal(signal.SIGCONT)
    redis.Redis.from_url(url, socket_timeout=5).ping()  # the queued commands have run

    # The old cookie opens nothing: not the page, and no 204 for the poll either.
    answer = stolen.request(server, "GET", "/profile/")
    assert answer.status == 302 and answer.headers["Location"].startswith("/?next=")
    polled = stolen.request(server, "GET", poll, headers=htmx)
    assert polled.status == 200 and polled.headers["HX-Redirect"].startswith("/")
