"""Figures of the queue read at scrape time (core/metrics.py): jobs by queue and
status, and how long the oldest waiting job of each queue has been due.

One statement over procrastinate's job table per scrape, whichever worker answers
it, so the figures are the same from every worker and never added up across them.
The table holds only live jobs and recent failures (successful jobs are deleted as
they finish, failed and cancelled ones after QUEUE_JOB_RETENTION_DAYS), so the
count stays small unless the queue is behind, which is when it is wanted.

Writes of events waiting for the relay (events_pending, events/relay.py) are queued
work of the `events` queue too: each counts as a `todo` job (a write's events go in
one job) due since its transaction began, so a stuck relay shows as the `events`
queue's age growing, as a stuck worker does.

"Due" is when a job could first have run: its `scheduled_at` (a retry, a job
queued for later) or else when it was queued (its `deferred` event). A job
scheduled for later is counted as `todo` but is not late until its time comes.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection
from procrastinate.contrib.django import app
from procrastinate.jobs import Status
from prometheus_client.core import GaugeMetricFamily

# Per (queue, status): the count and, for `todo`, the seconds since the oldest job
# fell due. The oldest never-scheduled job is taken as the lowest id (ids follow
# queueing order), so only one `deferred` event is read, not one per waiting job.
QUEUE_FIGURES_SQL = """
WITH by_status AS (
    SELECT queue_name, status, count(*) AS jobs,
           min(id) FILTER (WHERE status = 'todo' AND scheduled_at IS NULL) AS first_queued,
           min(scheduled_at) FILTER (WHERE status = 'todo' AND scheduled_at <= now()) AS first_due
    FROM procrastinate_jobs
    GROUP BY queue_name, status
)
SELECT queue_name, status::text, jobs,
       extract(epoch FROM now() - least(
           first_due,
           (SELECT min(at) FROM procrastinate_events
            WHERE job_id = first_queued AND type = 'deferred')
       ))::float
FROM by_status
UNION ALL
SELECT %s, 'todo', count(*), extract(epoch FROM now() - min(at))::float
FROM events_pending
HAVING count(*) > 0
"""

Row = tuple[str, str, int, float | None]

# Shown for every queue, 0 included. Not `succeeded` (such jobs are deleted as they
# finish) nor `aborting` (procrastinate 3 no longer sets it), unless a row has them.
STATUSES = (Status.TODO, Status.DOING, Status.FAILED, Status.CANCELLED, Status.ABORTED)
# procrastinate's own statuses: the inline queue's `held` (not committed) is not one.
VALUES = {status.value for status in Status}


def queue_collect() -> Iterator[GaugeMetricFamily]:
    jobs = GaugeMetricFamily(
        "referral_queue_jobs",
        "Jobs in the queue's table by queue and status (successful ones are deleted at once);"
        " the events queue's todo counts writes waiting for the relay too.",
        labels=["queue", "status"],
    )
    age = GaugeMetricFamily(
        "referral_queue_oldest_job_age_seconds",
        "Seconds since the oldest job waiting to run fell due, or the oldest write waiting"
        " for the relay was made (0: none waiting).",
        labels=["queue"],
    )
    rows = _inline_rows() if settings.QUEUE_INLINE else _table_rows()
    # Every queue a task names shows its series, 0 included, so a series does not
    # vanish when its queue empties (an alert on it would go silent, not resolve).
    queues = {task.queue for task in app.tasks.values()} | {row[0] for row in rows}
    counts = {(queue, status.value): 0 for queue in queues for status in STATUSES}
    ages: dict[str, float] = {}
    for queue, status, count, seconds in rows:
        if status in VALUES:  # the events queue has two `todo` rows: jobs, relay
            counts[queue, status] = counts.get((queue, status), 0) + count
        if seconds is not None:
            ages[queue] = max(seconds, ages.get(queue, seconds))
    for (queue, status), count in sorted(counts.items()):
        jobs.add_metric([queue, status], count)
    for queue in sorted(queues):
        age.add_metric([queue], max(0.0, ages.get(queue, 0.0)))
    yield jobs
    yield age


def _table_rows() -> list[Row]:
    from events.tasks import event_dispatch

    with connection.cursor() as cursor:
        cursor.execute(QUEUE_FIGURES_SQL, [event_dispatch.queue])
        return cursor.fetchall()


def _inline_rows() -> list[Row]:
    """QUEUE_INLINE (`make run`): the same figures from the web process's own jobs."""
    now = datetime.now(tz=UTC)
    counts: dict[tuple[str, str], int] = {}
    due: dict[str, datetime] = {}
    connector = app.connector
    # A copy: the inline runner's thread changes the jobs meanwhile.
    for job in list(getattr(connector, "jobs", {}).values()):
        key = (job["queue_name"], job["status"])
        counts[key] = counts.get(key, 0) + 1
        if job["status"] != Status.TODO.value:
            continue  # `held`, for one: its transaction has not committed
        queued = [e["at"] for e in connector.events.get(job["id"], []) if e["type"] == "deferred"]
        at = job["scheduled_at"] or min(queued, default=now)
        if at <= now:
            due[job["queue_name"]] = min(at, due.get(job["queue_name"], at))
    return [
        (
            queue,
            status,
            count,
            (now - due[queue]).total_seconds()
            if status == Status.TODO.value and queue in due
            else None,
        )
        for (queue, status), count in counts.items()
    ]
