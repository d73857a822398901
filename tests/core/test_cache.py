"""The Redis cache backend that keeps one client per connection pool."""

import os
import threading
import uuid

import pytest
import redis

from core.cache import SharedClientRedisCache

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture
def cache():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")
    backend = SharedClientRedisCache(REDIS_URL, {"KEY_PREFIX": f"cache-{uuid.uuid4().hex[:8]}"})
    yield backend
    backend.clear()


def test_values_round_trip_and_one_client_serves_every_call(cache):
    cache.set("a", {"version": "3"}, 30)
    assert cache.get("a") == {"version": "3"}
    assert cache.add("a", "other", 30) is False
    cache.delete("a")
    assert cache.get("a") is None
    client = cache._cache  # noqa: SLF001 - the object under test
    assert client.get_client("a") is client.get_client("b")


def test_threads_share_the_client_safely(cache):
    errors = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                cache.set(f"k{n}-{i}", i, 30)
                assert cache.get(f"k{n}-{i}") == i
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    """Settings pointing at a Redis that refuses every connection (a restart)."""
    from django.core.cache import caches

    url = f"redis://127.0.0.1:{_free_port()}/0"
    settings.REDIS_URL = url
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.SharedClientRedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    yield
    caches._settings = None  # noqa: SLF001 - let the next test build its caches afresh


def test_an_unreachable_redis_answers_misses_instead_of_raising():
    down = SharedClientRedisCache(
        f"redis://127.0.0.1:{_free_port()}/0", {"OPTIONS": {"socket_connect_timeout": 0.5}}
    )
    assert down.get("k", "fallback") == "fallback"
    assert down.add("k", 1) is False
    assert down.set("k", 1) is None
    assert down.delete("k") is False
    assert down.get_many(["a", "b"]) == {}


@pytest.mark.django_db
def test_members_sign_in_poll_and_activate_while_redis_restarts(client, redis_down, outbox):
    from core.staff import PHONE_CODE_BACKEND
    from profiles.models import User

    inviter = User.objects.create_user("+79991230106")
    member = User.objects.create_user("+79991230107")
    client.force_login(member, backend=PHONE_CODE_BACKEND)

    assert client.get("/profile/").status_code == 200
    assert client.get("/profile/referrals/?v=0", HTTP_HX_REQUEST="true").status_code in (200, 204)
    activated = client.post("/profile/invite/", {"invite_code": inviter.invite_code})

    assert activated.status_code == 200
    member.refresh_from_db()
    assert member.referred_by == inviter  # committed, not rolled back by a cache error
