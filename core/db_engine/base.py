"""Django's PostgreSQL backend, telling a busy pool from a dead database.

A request waits at most DB_POOL_TIMEOUT (2 s) for a pooled connection, so that
with the database down it answers 503 within about two seconds (core/
outage.py). But a burst of code requests can hold every pooled connection for
longer than that while the database is fine, and those requests must wait, not
fail. So when the pool times out, one connection of our own asks the database
(a stopped server refuses it at once): if it answers, the request waits up to
DB_POOL_BUSY_TIMEOUT more; if not, the timeout stands and the outage answer
follows. One probe per process a second at most, however many threads time out.
"""

import threading
import time

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool, PoolTimeout

PROBE_EVERY = 1.0  # seconds between probes of one process

_probe_lock = threading.Lock()
_probe: dict[str, float | bool] = {"at": float("-inf"), "answered": False}


def database_answers(pool: ConnectionPool) -> bool:
    """Whether the database takes a new connection now (cached for PROBE_EVERY)."""
    with _probe_lock:
        now = time.monotonic()
        if now - float(_probe["at"]) >= PROBE_EVERY:
            try:
                with psycopg.connect(conninfo=pool.conninfo, **pool.kwargs) as conn:
                    conn.execute("SELECT 1")
                _probe["answered"] = True
            except psycopg.Error:
                _probe["answered"] = False
            _probe["at"] = time.monotonic()
        return bool(_probe["answered"])


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict) -> psycopg.Connection:
        try:
            return super().get_new_connection(conn_params)
        except PoolTimeout:
            pool = self.pool
            if pool is None or not database_answers(pool):
                raise
            # Busy, not down. (The isolation level was set before the first wait;
            # this project configures none, so the pool's default applies.)
            return pool.getconn(timeout=settings.DB_POOL_BUSY_TIMEOUT)
