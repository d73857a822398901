"""Writes of the outbox: publishing an event in the transaction of its change."""

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.db.models import Model

from core.db import prepared_cursor, rows_insert, rows_insert_sql
from events.models import Event

# Events a dispatch job carries at most. A write of more (a judging raising many
# flags) gets several jobs, so that workers share them and a failing handler retries
# a bounded part of it; an activation's 3 events are one job. The relay packs the
# events of several writes into one job up to this many (never splitting a write
# that fits), so the queue's job count is about events / EVENTS_PER_JOB under load.
EVENTS_PER_JOB = 50


@dataclass
class _Together:
    """What an `events_together` block writes when it ends: its events, and the rows of
    the change given to `rows_insert_with_events` (each a list of one model's rows)."""

    events: list[Event] = field(default_factory=list)
    rows: list[Sequence[Model]] = field(default_factory=list)


# The open `events_together` block's writes, not written yet (None: outside one).
_together: ContextVar[_Together | None] = ContextVar("events_together", default=None)


def event_publish(*, type: str, data: dict[str, Any]) -> Event:  # noqa: A002 - the contract's name
    """Record that `type` happened, for its dispatch, in the caller's transaction.

    Call it inside the transaction of the change it reports (it joins it; outside
    one it opens its own): the event row and its marker for the relay commit or
    roll back with the change, so a rolled-back change publishes nothing and a
    committed one is never lost, even if the process dies right after the commit
    (the workers' relay queues its dispatch job, events/relay.py). One statement on
    PostgreSQL (the event and its marker), no savepoint. `data` holds ids, E.164 phones
    and ISO-8601 UTC times (events/payloads.py).

    Inside `events_together` the event is written when that block ends, with the
    others published in it; its id is known at once (made here, not by the database).
    """
    event = Event(type=type, data=data)
    pending = _together.get()
    if pending is not None:
        pending.events.append(event)
    else:
        _events_write([event])
    return event


def rows_insert_with_events(rows: Sequence[Model]) -> bool:
    """INSERT new rows of one model (their ids set already) in the statement that
    writes the events of the open `events_together` block, before those events; True
    if so. Outside such a block, or for rows whose ids the database would make,
    nothing is written and the answer is False: the caller inserts them itself.

    For a change whose rows and events are written on a hot path (an activation's
    grants, bench/rewards.py): on PostgreSQL the rows cost no round trip of their own.
    They are in the database once the block ends, not before; the transaction's
    outcome is theirs, as the events'.
    """
    pending = _together.get()
    if pending is None or not rows or any(row.pk is None for row in rows):
        return False
    pending.rows.append(rows)
    return True


def events_publish(*, events: list[tuple[str, dict[str, Any]]]) -> list[Event]:
    """Several events of one change at once, `(type, data)` each: one statement on
    PostgreSQL (the rows and one marker for all), however many there are; their
    dispatch comes in one job (up to EVENTS_PER_JOB), in the order published."""
    return _events_write([Event(type=type_, data=data) for type_, data in events])


def _events_write(rows: list[Event], *, before: Sequence[Sequence[Model]] = ()) -> list[Event]:
    """The event rows and what queues their dispatch (`event_ids`, in the order
    published): on PostgreSQL's queue one statement writing the rows and their
    marker for the relay (events/relay.py), which queues the job in a batch of
    others; elsewhere (the inline queue of `make run`) the rows and the job itself,
    one per EVENTS_PER_JOB, through procrastinate's own API.
    `before`: other new rows of the change (`rows_insert_with_events`), written first,
    in that statement on PostgreSQL.

    No job in the write itself: each job row costs 7 indexes, a trigger writing
    procrastinate_events and a NOTIFY, and PostgreSQL serializes NOTIFYing commits
    on one lock (docs/scaling.md); the relay pays that once a batch.
    """
    from events.tasks import event_dispatch

    if not rows:
        for other in before:
            rows_insert(other)
        return rows
    if connection.vendor == "postgresql" and not settings.QUEUE_INLINE:
        _events_write_pending(rows, before=before)
        return rows
    with transaction.atomic(savepoint=False):
        for other in before:
            rows_insert(other)
        rows_insert(rows)
        event_dispatch.batch_defer(*jobs_pack([[str(row.pk) for row in rows]]))
    return rows


def _events_write_pending(rows: list[Event], *, before: Sequence[Sequence[Model]] = ()) -> None:
    """INSERT the events and their `events_pending` row in one statement (PostgreSQL),
    after the change's own rows given in `before`.

    The ids are made here (not by the database), so the marker's list is one
    parameter that keeps the order published; one statement writes both, so neither
    commits without the other: a committed event always has its marker until the
    relay, in one transaction, queues its job and deletes the marker.
    """
    # The events' ids are made here (a UUID default), so the INSERT returns nothing;
    # the other rows' ids are set (rows_insert_with_events), so theirs neither.
    params: list[Any] = []
    ctes = []
    for index, other in enumerate([*before, rows]):
        insert, values, _ = rows_insert_sql(other)
        ctes.append(f"{'event' if other is rows else f'row{index}'} AS ({insert})")
        params += values
    # A data-modifying WITH runs to completion whether or not the query reads it.
    sql = f"""
        WITH {", ".join(ctes)}
        INSERT INTO events_pending (event_ids) VALUES (%s::jsonb)
    """  # noqa: S608 - the table names are ours, values are parameters
    params.append(json.dumps([str(row.pk) for row in rows]))
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)


def jobs_pack(writes: list[list[str]]) -> list[dict[str, list[str]]]:
    """The dispatch jobs' arguments for these writes' event ids, in order: up to
    EVENTS_PER_JOB ids a job, a write never split over two jobs unless it alone
    has more (then in parts of EVENTS_PER_JOB, as the write would have queued)."""
    jobs: list[list[str]] = []
    current: list[str] = []
    for ids in writes:
        if current and len(current) + len(ids) > EVENTS_PER_JOB:
            jobs.append(current)
            current = []
        if len(ids) > EVENTS_PER_JOB:
            jobs += [ids[at : at + EVENTS_PER_JOB] for at in range(0, len(ids), EVENTS_PER_JOB)]
        else:
            current = current + ids
    if current:
        jobs.append(current)
    return [{"event_ids": ids} for ids in jobs]


@contextmanager
def events_together() -> Iterator[None]:
    """Write every event published inside the block when it ends, in one statement
    and one marker for all (as `events_publish`, so one dispatch job carries them),
    instead of one for each.

    For a change whose parts publish separately (an activation and the grants its
    receivers add). Open it inside the change's transaction: the events are written
    in it, in the order published, when the block ends without an error; an error
    writes none. Nothing inside may catch an error of a savepoint it rolled back and
    go on, since the events published before it would still be written. Nested, the
    inner block joins the outer one.
    """
    if _together.get() is not None:
        yield
        return
    token = _together.set(_Together())
    try:
        yield
        pending = _together.get() or _Together()
    finally:
        _together.reset(token)
    _events_write(pending.events, before=pending.rows)
    for other in pending.rows:
        for row in other:
            row._state.adding, row._state.db = False, DEFAULT_DB_ALIAS
