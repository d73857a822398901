"""Who hears of an event: handlers registered by the apps above `events`.

`handler_register(fn)` (from an AppConfig.ready(), e.g. webhooks') adds `fn(event)`
to what the dispatch job runs for every event. One job carries the events of one
write (an activation's three, say), handed over in the order published. Delivery
is at least once: a handler that raises makes the whole job retry later (its
other events are handled first, and all of them run again), and a worker killed
mid-dispatch has it run again, so every handler must be idempotent (key its
work on `event.id`). Handlers should be quick: queue their own jobs for slow work.
"""

import logging
import time
from collections.abc import Callable
from contextvars import ContextVar

from events.models import Event

logger = logging.getLogger(__name__)

Handler = Callable[[Event], None]
_handlers: list[Handler] = []
# When the dispatch now running began (time.monotonic()): a handler that spends time
# on the spot (webhooks' first tries) budgets it per job, not per event, or the
# third event of an activation would wait out two budgets spent on a hanging receiver.
_started: ContextVar[float | None] = ContextVar("events_dispatch_started", default=None)


def handler_register(fn: Handler) -> Handler:
    """Run `fn(event)` for every event dispatched; registering twice is a no-op."""
    if fn not in _handlers:
        _handlers.append(fn)
    return fn


def handler_unregister(fn: Handler) -> None:
    """For tests that register a handler of their own."""
    if fn in _handlers:
        _handlers.remove(fn)


def handlers() -> tuple[Handler, ...]:
    return tuple(_handlers)


def dispatch_started() -> float | None:
    """time.monotonic() when the dispatch job now running began; None outside one."""
    return _started.get()


def events_dispatch(*, event_ids: list[str]) -> int:
    """Hand each event, in the order given (the order published), to every handler;
    returns how many handler runs there were.

    One dispatch job carries every event of one write (events/services.py), so a
    failure must not keep the job's other events from their handlers: every event
    and every handler runs even if an earlier one failed; the first failure is then
    raised, so the job is retried (the runs that succeeded happen again: idempotent).
    An event purged meanwhile (retention) is skipped.
    """
    token = _started.set(time.monotonic())
    try:
        return _events_dispatch(event_ids)
    finally:
        _started.reset(token)


def _events_dispatch(event_ids: list[str]) -> int:
    # One query for all; keyed by the ids as the job carries them (text).
    events = {str(pk): event for pk, event in Event.objects.in_bulk(event_ids).items()}
    failure: Exception | None = None
    ran = 0
    for event_id in event_ids:
        event = events.get(event_id)
        if event is None:
            logger.warning("event dispatch: event %s is gone", event_id)
            continue
        for handler in handlers():
            ran += 1
            try:
                handler(event)
            except Exception as error:  # noqa: BLE001 - re-raised below, after the others ran
                logger.exception("event handler %s failed on %s", handler, event)
                failure = failure or error
    if failure is not None:
        raise failure
    return ran
