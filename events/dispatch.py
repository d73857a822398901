"""Who hears of an event: handlers registered by the apps above `events`.

`handler_register(fn)` (from an AppConfig.ready(), e.g. webhooks') adds `fn(event)`
to what the dispatch job runs for every event. Delivery is at least once: a
handler that raises makes the whole dispatch retry later, and a worker killed
mid-dispatch has it run again, so every handler must be idempotent (key its
work on `event.id`). Handlers should be quick: queue their own jobs for slow work.
"""

import logging
from collections.abc import Callable

from events.models import Event

logger = logging.getLogger(__name__)

Handler = Callable[[Event], None]
_handlers: list[Handler] = []


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


def event_dispatch(*, event_id: str) -> int:
    """Hand one event to every handler; returns how many ran.

    Every handler runs even if an earlier one failed; the first failure is then
    raised, so the job is retried (the handlers that succeeded run again: idempotent).
    An event purged meanwhile (retention) is skipped.
    """
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        logger.warning("event dispatch: event %s is gone", event_id)
        return 0
    failure: Exception | None = None
    for handler in handlers():
        try:
            handler(event)
        except Exception as error:  # noqa: BLE001 - re-raised below, after the others ran
            logger.exception("event handler %s failed on %s", handler, event)
            failure = failure or error
    if failure is not None:
        raise failure
    return len(_handlers)
