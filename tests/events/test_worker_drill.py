"""Real worker processes on PostgreSQL: killed mid-job, two at once, rollbacks."""

import json
import time

import pytest
from django.db import connection, transaction

from events.models import Event
from events.services import event_publish
from tests.fakes.worker import wait_for

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

    with transaction.atomic():
        event = event_publish(type="test.committed", data={"n": 1})
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
    # Meanwhile two workers share a batch of quick jobs (the killed one is still listed).
    wait_for(lambda: queue_workers.registered() == 3)
    batch = [event_publish(type="test.quick", data={"hold": 0.1}) for _ in range(40)]

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
