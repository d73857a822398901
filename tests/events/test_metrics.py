"""The queue on /metrics (events/metrics.py): jobs by queue and status, and the age of
the oldest waiting job, read from procrastinate's table at scrape time; writes of
events waiting for the relay count as the events queue's waiting work."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from procrastinate.contrib.django import app

from events.metrics import queue_collect
from events.queue import InlineConnector
from events.relay import events_relay
from events.services import event_publish
from rewards.tasks import grants_approve_due_job
from tests.fakes.worker import queue_tables_clear, wait_for
from tests.scrape import scrape, value

HANDLERS = ["tests.fakes.queue_handlers"]


def _queue(client, settings, queue: str = "events") -> dict[str, float]:
    scraped = scrape(client, settings)
    figures = {
        status: value(scraped, "referral_queue_jobs", queue=queue, status=status)
        for status in ("todo", "doing", "failed")
    }
    figures["age"] = value(scraped, "referral_queue_oldest_job_age_seconds", queue=queue)
    return figures


def _queued_ago(seconds: int) -> None:
    """Say every job was queued `seconds` ago (its `deferred` event)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_events SET at = now() - make_interval(secs => %s) "
            "WHERE type = 'deferred'",
            [seconds],
        )


@pytest.mark.postgres
@pytest.mark.django_db
def test_queued_jobs_show_by_queue_and_status_with_the_oldest_ones_wait(client, settings):
    queue_tables_clear()  # inside the test's transaction: rolled back with it
    assert _queue(client, settings) == {"todo": 0, "doing": 0, "failed": 0, "age": 0}

    for n in range(3):
        event_publish(type="test.waiting", data={"n": n})
    events_relay()  # the three writes' events in one job
    _queued_ago(300)
    event_publish(type="test.waiting", data={"n": 3})  # waiting for the relay

    figures = _queue(client, settings)
    assert figures["todo"] == 2 and figures["doing"] == 0
    assert 300 <= figures["age"] < 360
    assert _queue(client, settings, "housekeeping")["todo"] == 0


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_stuck_relay_shows_as_the_events_queue_waiting_and_late(client, settings):
    """No relay running (every worker down, or failing): the events committed with
    no job yet are the events queue's work, late since their write, so the queue-age
    alert (site_config/prometheus/alerts.yml) fires for them as for a stuck worker."""
    queue_tables_clear()
    for n in range(2):
        event_publish(type="test.waiting", data={"n": n})
    with connection.cursor() as cursor:
        cursor.execute("UPDATE events_pending SET at = now() - interval '200 seconds'")

    figures = _queue(client, settings)
    assert figures["todo"] == 2
    assert 200 <= figures["age"] < 260
    events_relay()
    assert _queue(client, settings)["todo"] == 1  # one job for both, just queued


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_job_scheduled_for_later_is_waiting_but_not_late(client, settings):
    queue_tables_clear()
    grants_approve_due_job.configure(schedule_in={"hours": 1}).defer(timestamp=0)
    _queued_ago(600)

    assert _queue(client, settings, "housekeeping") == {
        "todo": 1,
        "doing": 0,
        "failed": 0,
        "age": 0,
    }
    # Its time came 5 minutes ago: late by that much, not by when it was queued.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = now() - interval '5 minutes'")
    assert 300 <= _queue(client, settings, "housekeeping")["age"] < 360


@pytest.mark.postgres
def test_jobs_a_worker_takes_and_finishes_leave_the_figures(
    queue_workers, client, settings, tmp_path
):
    held = event_publish(type="test.held", data={"hold": 3})
    for n in range(2):
        event_publish(type="test.quick", data={"n": n})
    assert _queue(client, settings)["todo"] == 3  # three writes waiting for the relay

    queue_workers.start(imports=HANDLERS, env={"TEST_QUEUE_LOG": str(tmp_path / "log")})

    # The held job is running (the relay may have put the quick events in it, or in
    # jobs already done: successful jobs are deleted).
    # Waited for together: a periodic job the worker queues as it starts (the stalled
    # jobs' retry, on this queue too) can be the one `doing` for a moment.
    running = wait_for(
        lambda: (f := _queue(client, settings))["doing"] == 1 and f["todo"] == 0 and f,
        timeout=30,
    )
    assert running["age"] == 0, held.pk
    wait_for(lambda: _queue(client, settings) == {"todo": 0, "doing": 0, "failed": 0, "age": 0})


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_queue_figures_cost_one_query_however_many_jobs_wait():
    for n in range(20):
        event_publish(type="test.waiting", data={"n": n})
    events_relay(batch=10)  # jobs and writes waiting for the relay, both counted
    with CaptureQueriesContext(connection) as queries:
        list(queue_collect())
    assert len(queries) == 1


@pytest.mark.django_db
def test_with_the_inline_queue_the_figures_come_from_the_processs_own_jobs(
    client, settings, django_capture_on_commit_callbacks
):
    """`make run` (QUEUE_INLINE): no table to read; a job counts once its transaction
    commits (before that it is held, and a rollback forgets it)."""
    settings.QUEUE_INLINE = True
    connector = InlineConnector()  # no app: nothing runs the jobs, they stay waiting
    with app.replace_connector(connector):
        with django_capture_on_commit_callbacks(execute=False) as pending:
            event_publish(type="test.held", data={})
        assert _queue(client, settings)["todo"] == 0
        for callback in pending:
            callback()
        for events in connector.events.values():
            for event in events:
                event["at"] -= timedelta(seconds=300)

        figures = _queue(client, settings)
    assert figures["todo"] == 1
    assert 300 <= figures["age"] < 360
