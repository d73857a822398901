"""The relay: queues the dispatch of committed events in batches (docs/scaling.md).

A write of events (events/services.py) commits its rows and one `events_pending`
row listing their ids, and no job: a job row costs 7 indexes, a trigger row and a
NOTIFY, and PostgreSQL serializes NOTIFYing commits on one lock. Each queue worker
runs the relay in a thread of its own (`manage.py queue_worker`), which in one
transaction takes up to `batch` pending writes (`FOR UPDATE SKIP LOCKED`: several
workers share them and never wait for each other), deletes them and queues their
`events.dispatch` jobs, EVENTS_PER_JOB events a job in the order published. The
delete and the jobs commit together: a relay killed at any moment (kill -9, a lost
connection) rolls both back, and its writes wait for the next run of any relay; none
is queued twice.

Tests call `events_relay()` to queue what their code published, as a worker would.
"""

import json
import logging
import threading

from django.db import connection, transaction

from core.db import prepared_cursor
from events.services import jobs_pack

logger = logging.getLogger(__name__)

# Writes one relay transaction takes at most: an activation's is 3 events, so 500
# of them make 30 jobs of 50 in one commit (one WAL flush, one NOTIFY lock turn).
RELAY_BATCH = 500

# The oldest pending writes no other relay holds, deleted; their ids in id order
# (the order their markers were written, so a write's own order is kept inside it).
CLAIM_SQL = """
WITH claimed AS (
    DELETE FROM events_pending
    WHERE id = ANY(ARRAY(
        SELECT id FROM events_pending ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
    ))
    RETURNING id, event_ids
)
SELECT event_ids FROM claimed ORDER BY id
"""

# The jobs, made by procrastinate's own function (a versioned part of its schema,
# kept across its releases), with the task's own queue, name, priority and locks:
# a worker cannot tell them from jobs `defer()` queued (tests/events/test_relay.py).
DEFER_SQL = """
SELECT procrastinate_defer_jobs_v1(ARRAY(
    SELECT ROW(%s, %s, %s, %s, %s, args, NULL)::procrastinate_job_to_defer_v1
    FROM jsonb_array_elements(%s::jsonb) AS args
))
"""


def events_relay(*, batch: int = RELAY_BATCH) -> int:
    """Queue the dispatch jobs of up to `batch` committed writes whose events have no
    job yet, and forget them, in one transaction; returns how many writes it took
    (`batch`: there may be more).

    Inside a transaction (a test's) it joins it; its claims then last until that
    transaction ends.
    """
    from events.tasks import event_dispatch

    task = event_dispatch
    with transaction.atomic(), prepared_cursor() as cursor:
        cursor.execute(CLAIM_SQL, [batch])
        writes = [ids if isinstance(ids, list) else json.loads(ids) for (ids,) in cursor]
        if not writes:
            return 0
        jobs = jobs_pack(writes)
        cursor.execute(
            DEFER_SQL,
            [task.queue, task.name, task.priority, task.lock, task.queueing_lock, json.dumps(jobs)],
        )
    return len(writes)


class Relay(threading.Thread):
    """`events_relay` in a loop, in a thread of a queue worker: again at once after
    a full batch, else after `idle` seconds; after a failure (the database away) it
    logs, waits `idle` ten times over and goes on. Its own database connection."""

    def __init__(self, *, batch: int = RELAY_BATCH, idle: float = 0.1) -> None:
        super().__init__(name="events-relay", daemon=True)
        self.batch = batch
        self.idle = idle
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            wait = self.idle
            try:
                if events_relay(batch=self.batch) >= self.batch:
                    wait = 0.0
            except Exception:
                logger.exception("events relay: the batch failed, trying again")
                wait = self.idle * 10
            finally:
                # Back to the pool between batches (the jobs' threads share it), and a
                # broken connection is not kept.
                connection.close()
            if wait:
                self._stopping.wait(wait)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the batch in hand (it commits or rolls back whole)."""
        self._stopping.set()
        self.join(timeout)


def events_relay_all(*, batch: int = RELAY_BATCH) -> int:
    """Relay until nothing is pending (a worker's `--burst`, tests); returns the writes."""
    total = 0
    while taken := events_relay(batch=batch):
        total += taken
    return total
