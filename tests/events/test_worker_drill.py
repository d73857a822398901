"""Real worker processes on PostgreSQL: killed mid-job, killed mid-relay, two at once,
rollbacks."""

import json
import time

import pytest
from django.db import connection, transaction

from events.models import Event, Pending
from events.relay import events_relay
from events.services import EVENTS_PER_JOB, event_publish, events_publish
from tests.fakes.worker import database_url, wait_for

pytestmark = [pytest.mark.postgres]

HANDLERS = ["tests.fakes.queue_handlers"]


def _jobs(task: str = "events.dispatch") -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s", [task])
        return cursor.fetchone()[0]


def _lines(log) -> list[list[str]]:
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_queues_nothing_and_a_committed_one_queues_its_dispatch():
    before = _jobs()
    with pytest.raises(RuntimeError), transaction.atomic():
        event_publish(type="test.rolled_back", data={})
        raise RuntimeError("the change fails after publishing")

    assert not Event.objects.filter(type="test.rolled_back").exists()
    assert _jobs() == before

    assert events_relay() == 0

    with transaction.atomic():
        event = event_publish(type="test.committed", data={"n": 1})
    assert events_relay() == 1
    assert _jobs() == before + 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT args->'event_ids' FROM procrastinate_jobs WHERE task_name = 'events.dispatch' "
            "ORDER BY id DESC LIMIT 1"
        )
        assert json.loads(cursor.fetchone()[0]) == [str(event.pk)]


def test_a_killed_workers_job_runs_again_on_a_new_worker_and_two_workers_never_share_one(
    queue_workers, tmp_path
):
    log = tmp_path / "handled.log"
    env = {"TEST_QUEUE_LOG": str(log)}
    first = queue_workers.start(imports=HANDLERS, env=env)
    held = event_publish(type="test.held", data={"hold": 120})
    wait_for(lambda: any(row[:2] == ["start", str(held.pk)] for row in _lines(log)))

    first.kill()  # kill -9, mid-job
    killed_at = time.monotonic()
    queue_workers.start(imports=HANDLERS, env=env)
    queue_workers.start(imports=HANDLERS, env=env)
    # Meanwhile two workers share a batch of quick jobs (the killed one is still listed):
    # writes of EVENTS_PER_JOB events, so the relay gives each a job of its own.
    wait_for(lambda: queue_workers.registered() == 3)
    batch = [
        event
        for _ in range(16)
        for event in events_publish(events=[("test.quick", {"hold": 0.005})] * EVENTS_PER_JOB)
    ]

    wait_for(lambda: any(row[:2] == ["end", str(held.pk)] for row in _lines(log)), timeout=30)
    recovered_after = time.monotonic() - killed_at
    ids = {str(event.pk) for event in batch}
    wait_for(lambda: ids <= {row[1] for row in _lines(log) if row[0] == "end"}, timeout=30)

    rows = _lines(log)
    starts = [row[1] for row in rows if row[0] == "start" and row[1] in ids]
    # Each quick job ran exactly once (none was taken by both workers) ...
    assert sorted(starts) == sorted(ids)
    # ... and both workers took some.
    assert len({row[2] for row in rows if row[0] == "start" and row[1] in ids}) == 2
    # The held job: started by the killed worker, finished by another, within 30 s.
    held_rows = [row for row in rows if row[1] == str(held.pk)]
    assert [row[0] for row in held_rows] == ["start", "start", "end"]
    assert held_rows[0][2] == str(first.pid) != held_rows[2][2]
    assert recovered_after < 30
    print(f"killed worker's job finished {recovered_after:.1f} s after the kill")  # noqa: T201


def _relay_waiting_on_the_jobs_table() -> int | None:
    """The backend of a relay that has claimed its batch and waits to queue its jobs."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query LIKE '%procrastinate_defer_jobs_v1%'"
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 0


def test_a_relay_killed_mid_batch_loses_nothing_and_the_next_queues_each_event_once(
    queue_workers, tmp_path
):
    """kill -9 of a worker whose relay has claimed (deleted) its writes and is queueing
    their jobs: nothing commits, and the next worker's relay queues every event once."""
    import psycopg

    log = tmp_path / "handled.log"
    env = {"TEST_QUEUE_LOG": str(log)}
    writes = [events_publish(events=[("test.quick", {"n": n})] * 3) for n in range(30)]
    ids = [str(event.pk) for write in writes for event in write]
    # Hold the jobs' table so that the relay's batch stops between its claim and its
    # jobs (SHARE mode: the relay's INSERT waits for it).
    with psycopg.connect(database_url()) as holder:
        holder.execute("LOCK TABLE procrastinate_jobs IN SHARE MODE")
        first = queue_workers.start(imports=HANDLERS, env=env)
        relay_pid = wait_for(_relay_waiting_on_the_jobs_table, timeout=30)
        with connection.cursor() as cursor:
            # Its claim: the writes are deleted in its transaction (not committed).
            cursor.execute("SELECT count(*) FROM events_pending")
            assert cursor.fetchone()[0] == 30
        first.kill()  # kill -9, mid-batch
        holder.rollback()
    # The dead worker's backend finishes its statement, finds its client gone and
    # rolls back: its claims come back, and no job of it was committed.
    wait_for(lambda: _backend_gone(relay_pid), timeout=30)
    assert _jobs() == 0
    assert Pending.objects.count() == 30

    queue_workers.start(imports=HANDLERS, env=env)
    wait_for(lambda: set(ids) <= {row[1] for row in _lines(log) if row[0] == "end"}, timeout=30)
    wait_for(lambda: not Pending.objects.exists())
    starts = [row[1] for row in _lines(log) if row[0] == "start"]
    assert sorted(starts) == sorted(ids)  # each event handled once: nothing queued twice
    assert _jobs() == 0  # the jobs ran (successful ones are deleted)
