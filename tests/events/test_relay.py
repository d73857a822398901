"""The relay (events/relay.py): committed events' dispatch jobs, queued in batches by
the workers, each write once, in the order published, never a rolled-back one."""

import json
import threading

import pytest
from django.db import connection, transaction

from events.models import Pending
from events.relay import Relay, events_relay, events_relay_all, jobs_pack
from events.services import EVENTS_PER_JOB, event_publish, events_publish
from tests.conftest import run_in_parallel
from tests.fakes.worker import queue_tables_clear, wait_for

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def clean_queue(transactional_db: None):
    """Committed rows: procrastinate's tables are not Django's to flush (events' are)."""
    queue_tables_clear()
    yield
    queue_tables_clear()


def _jobs() -> list[list[str]]:
    """The events each dispatch job carries, oldest job first (nothing relayed here)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT args->'event_ids' FROM procrastinate_jobs WHERE task_name = 'events.dispatch'"
            " ORDER BY id"
        )
        return [json.loads(row[0]) for row in cursor.fetchall()]


def _ids(events) -> list[str]:
    return [str(event.pk) for event in events]


@pytest.mark.django_db
def test_a_committed_event_with_no_job_yet_is_queued_by_the_relay_once():
    before = len(_jobs())
    event = event_publish(type="member.created", data={})
    assert len(_jobs()) == before  # no job in the write itself
    assert Pending.objects.count() == 1

    assert events_relay() == 1
    assert _jobs()[before:] == [[str(event.pk)]]
    assert not Pending.objects.exists()
    assert events_relay() == 0
    assert len(_jobs()) == before + 1


@pytest.mark.django_db
def test_the_relay_packs_writes_into_jobs_in_the_order_published_never_splitting_one():
    before = len(_jobs())
    writes = [_ids(events_publish(events=[("x.y", {"n": n})] * 3)) for n in range(20)]
    big = _ids(events_publish(events=[("fraud_flag.raised", {})] * (EVENTS_PER_JOB + 1)))
    last = _ids(events_publish(events=[("x.y", {})]))

    assert events_relay_all() == 22
    jobs = _jobs()[before:]
    # 16 writes of 3 fill a job of 48 (a 17th would not fit whole), 4 more go to the
    # next; the big write gets jobs of its own, as it always had; then the last.
    assert jobs == [
        sum(writes[:16], []),
        sum(writes[16:], []),
        big[:EVENTS_PER_JOB],
        big[EVENTS_PER_JOB:],
        last,
    ]


def test_jobs_pack_keeps_each_write_whole_and_at_most_events_per_job_a_job():
    a, b, c = ["a"] * 30, ["b"] * 20, ["c"] * 1
    assert jobs_pack([a, b, c]) == [{"event_ids": a + b}, {"event_ids": c}]
    assert jobs_pack([c, ["d"] * 120, c]) == [
        {"event_ids": c},
        {"event_ids": ["d"] * 50},
        {"event_ids": ["d"] * 50},
        {"event_ids": ["d"] * 20},
        {"event_ids": c},
    ]
    assert jobs_pack([]) == []


@pytest.mark.django_db
def test_a_batch_takes_at_most_its_size_oldest_writes_first():
    before = len(_jobs())
    events = [event_publish(type="x.y", data={"n": n}) for n in range(5)]
    assert events_relay(batch=2) == 2
    assert events_relay(batch=2) == 2
    assert events_relay(batch=2) == 1
    assert sum(_jobs()[before:], []) == _ids(events)


@pytest.mark.usefixtures("clean_queue")
def test_a_rolled_back_write_leaves_nothing_to_relay():
    with pytest.raises(RuntimeError), transaction.atomic():
        event_publish(type="member.created", data={})
        events_publish(events=[("x.y", {}), ("x.z", {})])
        raise RuntimeError("the change fails after publishing")
    assert not Pending.objects.exists()
    assert events_relay() == 0
    assert _jobs() == []


@pytest.mark.usefixtures("clean_queue")
def test_the_jobs_the_relay_queues_are_those_defer_queues():
    from events.tasks import event_dispatch

    ids = _ids(events_publish(events=[("member.created", {}), ("member.updated", {})]))
    events_relay()
    event_dispatch.defer(event_ids=ids)
    columns = "queue_name, task_name, priority, lock, queueing_lock, scheduled_at, status, attempts"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT args, {columns} FROM procrastinate_jobs"  # noqa: S608 - our constants
            " WHERE task_name = 'events.dispatch' ORDER BY id"
        )
        ours, deferred = cursor.fetchall()[-2:]
    assert json.loads(ours[0]) == json.loads(deferred[0]) == {"event_ids": ids}
    assert ours[1:] == deferred[1:]


@pytest.mark.usefixtures("clean_queue")
def test_a_relay_holding_a_batch_does_not_block_another_and_each_write_is_queued_once():
    events = [event_publish(type="x.y", data={"n": n}) for n in range(30)]
    claimed, release = threading.Event(), threading.Event()

    def holding() -> int:
        # Its batch stays claimed (not committed) until the other relay is done.
        with transaction.atomic():
            taken = events_relay(batch=10)
            claimed.set()
            release.wait(30)
        return taken

    def other() -> int:
        claimed.wait(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # waiting on the other would fail
        try:
            return events_relay_all(batch=7)
        finally:
            release.set()

    assert run_in_parallel([holding, other]) == [10, 20]
    jobs = _jobs()
    queued = sum(jobs, [])
    assert sorted(queued) == sorted(_ids(events))  # each once
    # The held batch was the oldest ten, in order, whichever committed first.
    assert _ids(events[:10]) in [jobs[0], jobs[-1]]


@pytest.mark.usefixtures("clean_queue")
def test_two_relays_racing_queue_every_write_once():
    events = [event_publish(type="x.y", data={"n": n}) for n in range(200)]
    taken = run_in_parallel([lambda: events_relay_all(batch=3)] * 2)
    assert sum(taken) == 200, taken
    queued = sum(_jobs(), [])
    assert len(queued) == 200 and set(queued) == set(_ids(events))


@pytest.mark.usefixtures("clean_queue")
def test_the_relay_thread_queues_what_commits_while_it_runs_and_stops():
    relay = Relay(idle=0.05)
    relay.start()
    try:
        event = event_publish(type="member.created", data={})
        wait_for(lambda: _jobs() == [[str(event.pk)]], timeout=10)
    finally:
        relay.stop()
    assert not relay.is_alive()
    assert not Pending.objects.exists()
