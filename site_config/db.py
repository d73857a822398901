"""Database helpers shared by the apps' services."""

import hashlib

from django.db import connection


def advisory_lock(key: str) -> None:
    """Serialise transactions that name the same key, until the transaction ends.

    On PostgreSQL this is a transaction-level advisory lock, so it holds across
    processes and machines. SQLite runs one writer at a time and needs none.
    """
    if connection.vendor != "postgresql":
        return
    lock_id = int.from_bytes(
        hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def release_connection() -> None:
    """Hand the connection back to the pool before a long wait outside the database.

    Inside an atomic block (as in tests) the connection must stay.
    """
    if not connection.in_atomic_block:
        connection.close()
