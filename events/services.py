"""Writes of the outbox: publishing an event in the transaction of its change."""

from typing import Any

from django.db import transaction

from events.models import Event


def event_publish(*, type: str, data: dict[str, Any]) -> Event:  # noqa: A002 - the contract's name
    """Record that `type` happened, and queue its dispatch, in the caller's transaction.

    Call it inside the transaction of the change it reports (it joins it; outside
    one it opens its own): the event row and its job row commit or roll back with
    the change, so a rolled-back change publishes nothing and a committed one is
    never lost, even if the process dies right after the commit. Two INSERTs, no
    savepoint. `data` holds ids, E.164 phones and ISO-8601 UTC times (events/payloads.py).
    """
    from events.tasks import event_dispatch

    with transaction.atomic(savepoint=False):
        event = Event.objects.create(type=type, data=data)
        event_dispatch.defer(event_id=str(event.pk))
    return event


def events_publish(*, events: list[tuple[str, dict[str, Any]]]) -> list[Event]:
    """Several events of one change at once, `(type, data)` each: two statements in
    all (one multi-row INSERT, one batch of jobs), however many there are."""
    from events.tasks import event_dispatch

    if not events:
        return []
    with transaction.atomic(savepoint=False):
        rows = Event.objects.bulk_create([Event(type=type_, data=data) for type_, data in events])
        event_dispatch.batch_defer(*({"event_id": str(row.pk)} for row in rows))
    return rows
