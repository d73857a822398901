"""Django's built-in Redis cache backend, with one client object per connection pool.

Django's client builds a new `redis.Redis` for every cache call (the pool is
shared, the client object is not), and building one fills a table of ~170
response callbacks: about 0.25 ms of CPU, paid twice by every signed-in page
(session, then the cache) and more than the Redis round trip itself. A
`redis.Redis` is safe to share between threads (each command borrows a pooled
connection), so one per pool is kept.
"""

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


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


class SharedClientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
