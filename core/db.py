"""Database helpers shared by the apps' services."""

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.utils import CursorWrapper
from django.db.models import Model
from django.utils import timezone


def advisory_lock(*keys: str) -> None:
    """Serialise transactions that name the same keys, until the transaction ends.

    On PostgreSQL these are transaction-level advisory locks, so they hold across
    processes and machines; they are taken in the order given (one statement, whose
    select list PostgreSQL evaluates left to right). SQLite runs one writer at a
    time and needs none.
    """
    if connection.vendor != "postgresql" or not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(advisory_lock_sql(*keys), advisory_lock_ids(*keys))


def advisory_lock_ids(*keys: str) -> list[int]:
    """The 64-bit lock ids of `keys` (for advisory_lock_sql's placeholders)."""
    return [
        int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
        for key in keys
    ]


def advisory_lock_sql(*keys: str) -> str:
    """The statement advisory_lock runs, for a caller that sends it with others
    (one round trip); its parameters are advisory_lock_ids(*keys)."""
    return "SELECT " + ", ".join(["pg_advisory_xact_lock(%s)"] * len(keys))


def database_now() -> datetime:
    """The database's clock on PostgreSQL (`clock_timestamp()`), the app's elsewhere.

    There an activation is stamped by the database's clock (profiles.services), so
    whoever judges what came before a moment against `activated_at` (the fraud
    scan's mark, which rewards' approvals wait for) reads that clock too: an app host
    whose clock runs ahead would otherwise move the mark past activations that
    commit just after its scan, and they would never be judged, yet approved.
    """
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def prepared_cursor() -> CursorWrapper:
    """A cursor for a hot path's statement whose plan does not depend on its values (a
    lookup by key, an insert): prepared once run often on a connection, and planned
    once by PostgreSQL (core/db_engine's `prepared_cursor`); elsewhere (SQLite, no
    prepared statements) a cursor like any other."""
    db = connections[DEFAULT_DB_ALIAS]
    make = getattr(db, "prepared_cursor", None)
    return make() if make is not None else db.cursor()


def release_connection() -> None:
    """Hand the connection back to the pool before a long wait outside the database.

    Inside an atomic block (as in tests) the connection must stay.
    """
    if not connection.in_atomic_block:
        connection.close()


def rows_insert(rows: Sequence[Model]) -> None:
    """INSERT new rows of one model in one statement; sets the database-made ids.

    What `bulk_create` does for rows that need nothing of it but the INSERT (no
    conflicts to handle, no batches, no signals either way), at a fraction of its
    cost in Python: for the few rows of a hot path (an activation's grants and
    events, bench/rewards.py), the ORM's insert compiler costs more than the
    round trip. The statement is `rows_insert_sql`'s.
    """
    if not rows:
        return
    db = connections[DEFAULT_DB_ALIAS]
    sql, params, generated = rows_insert_sql(rows)
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        if generated:
            # Both PostgreSQL and SQLite return the rows of one VALUES list in its order
            # (the ORM's bulk_create relies on it too).
            attname = type(rows[0])._meta.pk.attname
            for row, (value,) in zip(rows, cursor.fetchall(), strict=True):
                setattr(row, attname, value)
    for row in rows:
        row._state.adding = False
        row._state.db = db.alias


def rows_insert_sql(rows: Sequence[Model]) -> tuple[str, list[Any], bool]:
    """The INSERT of new rows of one model (at least one), its parameters, and whether
    it returns the database-made ids (RETURNING); for `rows_insert`, or a caller that
    writes the rows inside a statement of its own (the outbox's, with its jobs).

    Values go through each field's own `pre_save` and `get_db_prep_save`, as the
    ORM's do, so every backend stores them alike. Cheaper where the rows allow it:
    a nullable column that every row leaves None (and that has no database default)
    is not written, the database makes it NULL itself; a value the rows share (the
    same object) is prepared once; the statement's text is made once per model,
    columns and row count.
    """
    # The connection itself, not the proxy `connection`: each attribute read through
    # the proxy costs a thread-local lookup, and values are prepared field by field.
    db = connections[DEFAULT_DB_ALIAS]
    model = type(rows[0])
    meta = model._meta
    pk = meta.pk
    generated = pk.db_returning and all(row.pk is None for row in rows)
    fields = [f for f in meta.concrete_fields if not (generated and f is pk)]
    values = [[f.pre_save(row, True) for f in fields] for row in rows]
    kept = tuple(
        i
        for i, f in enumerate(fields)
        if not (f.null and not f.has_db_default() and all(v[i] is None for v in values))
    )
    params: list[Any] = []
    last: dict[int, tuple[Any, Any]] = {}
    for row_values in values:
        for i in kept:
            value = row_values[i]
            seen = last.get(i)
            if seen is None or seen[0] is not value:
                seen = last[i] = (value, fields[i].get_db_prep_save(value, db))
            params.append(seen[1])
    key = (db.alias, model, kept, len(rows), generated)
    sql = _insert_sql.get(key)
    if sql is None:
        quote = db.ops.quote_name
        one = "(" + ", ".join(["%s"] * len(kept)) + ")"
        sql = _insert_sql[key] = "INSERT INTO {} ({}) VALUES {}{}".format(  # noqa: S608 - names are the model's
            quote(meta.db_table),
            ", ".join(quote(fields[i].column) for i in kept),
            ", ".join([one] * len(rows)),
            f" RETURNING {quote(pk.column)}" if generated else "",
        )
    return sql, params, generated


# rows_insert's statements by (alias, model, columns written, rows, ids returned): a
# few shapes per model, each made once per process.
_insert_sql: dict[tuple[Any, ...], str] = {}
