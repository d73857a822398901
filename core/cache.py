"""Django's built-in Redis cache backend, with one client object per connection pool.

Django's client builds a new `redis.Redis` for every cache call (the pool is
shared, the client object is not), and building one fills a table of ~170
response callbacks: about 0.25 ms of CPU, paid twice by every signed-in page
(session, then the cache) and more than the Redis round trip itself. A
`redis.Redis` is safe to share between threads (each command borrows a pooled
connection), so one per pool is kept.
"""

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: str | None = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            # A race only builds a spare client; both use the same pool.
            client = self._clients[index] = self._client(
                connection_pool=self._get_connection_pool(write)
            )
        return client


# What the cache answers while Redis cannot be reached, per method: a miss, or
# "not stored". Everything kept here (sessions written through to the database,
# the referrals poll's version) has the database behind it, so a Redis restart
# costs speed, never a 500 or a lost activation.
_UNREACHABLE_ANSWERS: dict[str, Callable[..., Any]] = {
    "get": lambda key, default=None, **kw: default,
    "get_many": lambda keys, **kw: {},
    "has_key": lambda key, **kw: False,
    "add": lambda *a, **kw: False,
    "set": lambda *a, **kw: None,
    "set_many": lambda data, **kw: list(data),
    "touch": lambda *a, **kw: False,
    "delete": lambda *a, **kw: False,
    "delete_many": lambda *a, **kw: None,
}


def _tolerant(method: Callable[..., Any], unreachable: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError) as error:
            logger.warning("redis unreachable: cache %s skipped (%s)", method.__name__, error)
            return unreachable(*args, **kwargs)

    return call


class SharedClientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient


for _name, _answer in _UNREACHABLE_ANSWERS.items():
    setattr(SharedClientRedisCache, _name, _tolerant(getattr(RedisCache, _name), _answer))
