"""Sessions shared through Redis (`REDIS_URL`, `cached_db`) by separate server processes."""

import os
import uuid

import pytest
import redis

from tests.deploy.conftest import DEMO_SERVE_ENV, Browser
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
    prefix = f"h12test-{uuid.uuid4().hex[:8]}"
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
