"""Database helpers shared by the apps' services."""

import hashlib

from django.db import connection


def advisory_lock(*keys: str) -> None:
    """Serialise transactions that name the same keys, until the transaction ends.

    On PostgreSQL these are transaction-level advisory locks, so they hold across
    processes and machines; they are taken in the order given (one statement, whose
    select list PostgreSQL evaluates left to right). SQLite runs one writer at a
    time and needs none.
    """
    if connection.vendor != "postgresql" or not keys:
        return
    lock_ids = [
        int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
        for key in keys
    ]
    locks = ", ".join(["pg_advisory_xact_lock(%s)"] * len(lock_ids))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {locks}", lock_ids)  # noqa: S608 - placeholders only


def release_connection() -> None:
    """Hand the connection back to the pool before a long wait outside the database.

    Inside an atomic block (as in tests) the connection must stay.
    """
    if not connection.in_atomic_block:
        connection.close()
