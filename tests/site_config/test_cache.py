"""The Redis cache backend that keeps one client per connection pool."""

import os
import threading
import uuid

import pytest
import redis

from site_config.cache import SharedClientRedisCache

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture
def cache():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")
    backend = SharedClientRedisCache(REDIS_URL, {"KEY_PREFIX": f"h12test-{uuid.uuid4().hex[:8]}"})
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
