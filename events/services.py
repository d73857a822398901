"""Writes of the outbox: publishing an event in the transaction of its change."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction

from core.db import rows_insert
from events.models import Event

# Events published inside `events_together`, not written yet (None: outside one).
_together: ContextVar[list[Event] | None] = ContextVar("events_together", default=None)


def event_publish(*, type: str, data: dict[str, Any]) -> Event:  # noqa: A002 - the contract's name
    """Record that `type` happened, and queue its dispatch, in the caller's transaction.

    Call it inside the transaction of the change it reports (it joins it; outside
    one it opens its own): the event row and its job row commit or roll back with
    the change, so a rolled-back change publishes nothing and a committed one is
    never lost, even if the process dies right after the commit. Two INSERTs, no
    savepoint. `data` holds ids, E.164 phones and ISO-8601 UTC times (events/payloads.py).

    Inside `events_together` the event is written when that block ends, with the
    others published in it; its id is known at once (made here, not by the database).
    """
    pending = _together.get()
    if pending is not None:
        event = Event(type=type, data=data)
        pending.append(event)
        return event
    from events.tasks import event_dispatch

    with transaction.atomic(savepoint=False):
        event = Event.objects.create(type=type, data=data)
        event_dispatch.defer(event_id=str(event.pk))
    return event


def events_publish(*, events: list[tuple[str, dict[str, Any]]]) -> list[Event]:
    """Several events of one change at once, `(type, data)` each: two statements in
    all (one multi-row INSERT, one batch of jobs), however many there are."""
    return _events_write([Event(type=type_, data=data) for type_, data in events])


def _events_write(rows: list[Event]) -> list[Event]:
    from events.tasks import event_dispatch

    if not rows:
        return []
    with transaction.atomic(savepoint=False):
        rows_insert(rows)
        event_dispatch.batch_defer(*({"event_id": str(row.pk)} for row in rows))
    return rows


@contextmanager
def events_together() -> Iterator[None]:
    """Write every event published inside the block when it ends, in two statements
    for all (as `events_publish`), instead of two for each.

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
    token = _together.set([])
    try:
        yield
        pending = _together.get() or []
    finally:
        _together.reset(token)
    _events_write(pending)
