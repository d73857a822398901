"""Jobs of the queue that belong to the queue itself: event dispatch and its upkeep.

Other apps put their jobs in their own `tasks.py` (procrastinate's Django app
imports every installed app's `tasks` module), with `procrastinate.contrib.django.app`.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from procrastinate import JobContext, RetryStrategy
from procrastinate.contrib.django import app

from events import dispatch
from events.models import Event

logger = logging.getLogger(__name__)

# A failing handler: again after 2, 4, 8 ... 1024 s (about 34 minutes in all).
DISPATCH_RETRY = RetryStrategy(max_attempts=10, exponential_wait=2)
PURGE_BATCH = 5000


@app.task(name="events.dispatch", queue="events", retry=DISPATCH_RETRY)
def event_dispatch(*, event_ids: list[str] | None = None, event_id: str | None = None) -> None:
    """The events of one write, `event_ids` in the order published (events/services.py).

    Both arguments are taken on purpose. `event_id` (one event) is what jobs queued
    before a write's events shared one job carry: such jobs may still wait in the
    queue across a deploy (or be retried from a failure), so they must still run;
    drop it only once no job of that shape can be left in any queue.
    """
    ids = [*(event_ids or ()), *([event_id] if event_id else [])]
    dispatch.events_dispatch(event_ids=ids)


# Every 5 seconds (the sixth cron field is seconds): a job whose worker stopped
# sending heartbeats (killed, machine lost) goes back to the queue, so a killed
# worker's job runs again within QUEUE_STALLED_SECONDS + 5 s + one poll.
@app.periodic(cron="* * * * * */5")
@app.task(name="events.stalled_jobs_retry", queue="events", pass_context=True)
async def stalled_jobs_retry(context: JobContext, timestamp: int) -> int:
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=settings.QUEUE_STALLED_SECONDS)
    for job in stalled:
        logger.warning("queue: job %s (%s) was stalled, queued again", job.id, job.task_name)
        await manager.retry_job(job)
    return len(stalled)


@app.periodic(cron="17 4 * * *")
@app.task(name="events.queue_purge", queue="events", pass_context=True)
async def queue_purge(context: JobContext, timestamp: int) -> None:
    """Failed and cancelled jobs older than QUEUE_JOB_RETENTION_DAYS go (successful ones
    are deleted as they finish)."""
    await context.app.job_manager.delete_old_jobs(
        nb_hours=settings.QUEUE_JOB_RETENTION_DAYS * 24,
        include_failed=True,
        include_cancelled=True,
        include_aborted=True,
    )


@app.periodic(cron="27 4 * * *")
@app.task(name="events.events_purge", queue="events")
def events_purge(timestamp: int) -> int:
    """Events older than EVENT_RETENTION_DAYS go (receivers had them long ago)."""
    cutoff = timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS)
    old = Event.objects.filter(occurred_at__lt=cutoff)
    deleted = 0
    while ids := list(old.values_list("pk", flat=True)[:PURGE_BATCH]):
        deleted += Event.objects.filter(pk__in=ids).delete()[0]
    return deleted
