"""A dispatch handler for test events (`test.*`), for worker drills.

Each run appends `start <event id> <pid> <monotonic time>` and then `end ...` to
the file named by TEST_QUEUE_LOG. An event whose data has `"hold": seconds`
sleeps that long before `end` on its first run only (a marker file says a run
began), so a worker killed during the hold leaves a job that the next run finishes.
"""

import os
import time
from pathlib import Path

from events.dispatch import handler_register
from events.models import Event


def _write(line: str) -> None:
    with Path(os.environ["TEST_QUEUE_LOG"]).open("a") as log:
        log.write(f"{line} {os.getpid()} {time.monotonic():.6f}\n")


def test_event_handler(event: Event) -> None:
    if not event.type.startswith("test."):
        return
    marker = Path(f"{os.environ['TEST_QUEUE_LOG']}.{event.pk}.began")
    first_run = not marker.exists()
    marker.touch()
    _write(f"start {event.pk}")
    if first_run and event.data.get("hold"):
        time.sleep(float(event.data["hold"]))
    _write(f"end {event.pk}")


handler_register(test_event_handler)
