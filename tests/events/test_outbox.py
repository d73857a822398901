"""The outbox: an event and its marker for the relay are written with the change they
report, and the relay (events/relay.py, tests/events/test_relay.py) queues its job."""

import json
import os
import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection, transaction

from events import dispatch
from events.models import Event, Pending
from events.payloads import e164, iso_utc
from events.relay import events_relay_all
from events.services import (
    event_publish,
    events_publish,
    events_together,
    rows_insert_with_events,
)
from tests.fakes.worker import ROOT

pytestmark = [pytest.mark.django_db]


def _dispatch_jobs() -> list[list[str]]:
    """The events each dispatch job carries, oldest job first, once the relay queued
    what was published (as the workers' relay does)."""
    events_relay_all()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT args->'event_ids' FROM procrastinate_jobs WHERE task_name = 'events.dispatch'"
            " ORDER BY id"
        )
        return [json.loads(row[0]) for row in cursor.fetchall()]


@pytest.mark.postgres
def test_publishing_writes_the_event_and_its_relay_marker_in_one_statement_and_no_job(
    django_assert_num_queries,
):
    before = len(_dispatch_jobs())
    with transaction.atomic(), django_assert_num_queries(1) as queries:
        event = event_publish(type="member.created", data={"member_id": 7})

    assert "procrastinate" not in queries.captured_queries[0]["sql"]
    stored = Event.objects.get(pk=event.pk)
    assert (stored.type, stored.data) == ("member.created", {"member_id": 7})
    assert list(Pending.objects.values_list("event_ids", flat=True)) == [[str(event.pk)]]
    # The relay queues its job.
    assert _dispatch_jobs()[before:] == [[str(event.pk)]]


def test_dispatch_hands_every_event_to_every_handler_in_order_then_raises_the_first_failure():
    seen: list[tuple[str, str]] = []

    def failing(event: Event) -> None:
        seen.append(("failing", event.type))
        if event.type == "reward.created":
            raise ValueError("receiver down")

    def other(event: Event) -> None:
        seen.append(("other", event.type))

    dispatch.handler_register(failing)
    dispatch.handler_register(other)
    dispatch.handler_register(other)  # twice is once
    try:
        events = events_publish(
            events=[("referral.activated", {}), ("reward.created", {}), ("member.updated", {})]
        )
        gone = "00000000-0000-0000-0000-000000000000"  # purged meanwhile: skipped
        ids = [str(events[0].pk), gone, *(str(e.pk) for e in events[1:])]
        with pytest.raises(ValueError, match="receiver down"):
            dispatch.events_dispatch(event_ids=ids)
    finally:
        dispatch.handler_unregister(failing)
        dispatch.handler_unregister(other)

    # The failure on the second event kept neither its other handler nor the third
    # event from running; the job is retried only then.
    assert seen == [
        ("failing", "referral.activated"),
        ("other", "referral.activated"),
        ("failing", "reward.created"),
        ("other", "reward.created"),
        ("failing", "member.updated"),
        ("other", "member.updated"),
    ]
    assert dispatch.events_dispatch(event_ids=[gone]) == 0


def test_a_job_queued_with_the_old_single_event_argument_still_dispatches():
    """Jobs queued before one job carried a write's events (`event_id=`) may still
    wait in the queue after a deploy: the task takes both shapes."""
    from events.tasks import event_dispatch

    seen: list[str] = []

    def handler(event: Event) -> None:
        seen.append(str(event.pk))

    dispatch.handler_register(handler)
    try:
        old, new = event_publish(type="member.created", data={}), event_publish(type="x.y", data={})
        event_dispatch(event_id=str(old.pk))
        event_dispatch(event_ids=[str(new.pk)])
    finally:
        dispatch.handler_unregister(handler)
    assert seen == [str(old.pk), str(new.pk)]


def test_payload_times_are_utc_and_phones_e164():
    moscow = timezone(timedelta(hours=3))
    assert iso_utc(datetime(2026, 12, 1, 11, 0, tzinfo=moscow)) == "2026-12-01T08:00:00Z"
    assert iso_utc(datetime(2026, 12, 1, 8, 0, 0, 5, tzinfo=UTC)) == "2026-12-01T08:00:00.000005Z"
    assert iso_utc(None) is None
    assert e164("+79991234567") == "+79991234567"


INLINE_SCRIPT = textwrap.dedent(
    """
    import os, sys, threading
    import django
    django.setup()
    from django.db import transaction
    from procrastinate.contrib.django import app
    from events.dispatch import handler_register
    from events.services import event_publish, events_publish

    done = threading.Event()
    seen = []
    running = []  # the jobs running as the last event is handled (finished ones go)

    def handler(event):
        seen.append(event.type)
        if event.type == "member.created":
            jobs = app.connector.jobs.values()
            running.extend(len(j["args"]["event_ids"]) for j in jobs if j["status"] == "doing")
            done.set()

    handler_register(handler)
    try:
        with transaction.atomic():
            event_publish(type="referral.activated", data={})
            raise RuntimeError
    except RuntimeError:
        pass
    with transaction.atomic():
        events_publish(events=[("member.updated", {}), ("member.created", {})])
        assert not seen, "ran before the commit"
    assert done.wait(10), "the job did not run"
    print(seen, running)
    """
)


def test_without_postgresql_a_writes_events_run_inline_in_one_job_after_commit_never_rollback(
    tmp_path,
):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "site_config.settings",
    }
    env.pop("QUEUE_INLINE", None)
    run = lambda *argv: subprocess.run(  # noqa: E731, S603 - our own code
        [sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    migrated = run("manage.py", "migrate", "--noinput", "-v0")
    assert migrated.returncode == 0, migrated.stderr

    result = run("-c", INLINE_SCRIPT)

    assert result.returncode == 0, result.stderr
    # One job ran both events, in order; the rolled-back one never ran.
    assert result.stdout.strip() == "['member.updated', 'member.created'] [2]"


@pytest.mark.postgres
def test_a_job_queued_inside_a_worker_job_joins_that_jobs_transaction():
    """In a worker, `defer()` from a synchronous job goes through Django's connection
    (events.queue.WorkerConnector), not the worker's own pool: rolled back with the job."""
    from procrastinate.contrib.django import app

    from events.queue import WorkerConnector
    from events.tasks import event_dispatch
    from tests.fakes.worker import database_url

    before = len(_dispatch_jobs())
    with app.replace_connector(WorkerConnector(conninfo=database_url())):
        with pytest.raises(RuntimeError), transaction.atomic():
            event_dispatch.defer(event_ids=["rolled-back"])
            raise RuntimeError("the job fails after queueing")
        assert len(_dispatch_jobs()) == before
        with transaction.atomic():
            event_dispatch.defer(event_ids=["committed"])
        assert _dispatch_jobs()[before:] == [["committed"]]


@pytest.mark.postgres
def test_events_published_together_are_written_when_the_block_ends(
    django_assert_num_queries,
):
    before = len(_dispatch_jobs())
    with transaction.atomic(), events_together():
        with django_assert_num_queries(0):
            first = event_publish(type="referral.activated", data={"member_id": 1})
            others = [event_publish(type="reward.created", data={"id": n}) for n in (1, 2)]
        assert not Event.objects.filter(pk=first.pk).exists()
    ids = [first.pk, *(e.pk for e in others)]
    stored = Event.objects.filter(pk__in=ids)
    assert sorted(e.type for e in stored) == [
        "referral.activated",
        "reward.created",
        "reward.created",
    ]
    # One dispatch job for the three, in the order published.
    assert _dispatch_jobs()[before:] == [[str(pk) for pk in ids]]


@pytest.mark.postgres
def test_an_activation_with_the_rewards_program_queues_one_dispatch_job_for_its_three_events(
    make_member,
):
    from profiles.services import invite_activate
    from rewards.services import program_set

    program_set(referrer_amount=100, friend_amount=50, unit="points", hold_days=0)
    inviter, friend = make_member(), make_member()
    before = len(_dispatch_jobs())
    invite_activate(user=friend, code=inviter.invite_code)

    (job,) = _dispatch_jobs()[before:]
    events = Event.objects.in_bulk(job)
    assert [events[uuid.UUID(pk)].type for pk in job] == [
        "referral.activated",
        "reward.created",
        "reward.created",
    ]


@pytest.mark.postgres
def test_a_write_of_many_events_is_relayed_in_jobs_of_at_most_events_per_job(
    django_assert_num_queries,
):
    """A judging raising many flags: jobs that workers share, each a bounded retry."""
    from events.services import EVENTS_PER_JOB

    before = len(_dispatch_jobs())
    with transaction.atomic(), django_assert_num_queries(1):
        events = events_publish(events=[("fraud_flag.raised", {"n": n}) for n in range(101)])

    jobs = _dispatch_jobs()[before:]
    assert [len(job) for job in jobs] == [EVENTS_PER_JOB, EVENTS_PER_JOB, 101 - 2 * EVENTS_PER_JOB]
    assert sum(jobs, []) == [str(event.pk) for event in events]


@pytest.mark.postgres
def test_events_together_costs_one_statement_for_all(django_assert_num_queries):
    with transaction.atomic(), django_assert_num_queries(1), events_together():
        for n in range(3):
            event_publish(type="reward.created", data={"id": n})


def test_an_error_inside_events_together_writes_none_of_its_events():
    with pytest.raises(ValueError, match="went wrong"), transaction.atomic(), events_together():
        event_publish(type="referral.activated", data={})
        raise ValueError("went wrong")
    assert not Event.objects.exists()
    # Afterwards events are written one by one again.
    event = event_publish(type="member.created", data={})
    assert Event.objects.filter(pk=event.pk).exists()


def _members(*numbers: int) -> list:
    """New members with their ids set already, as rows_insert_with_events takes them."""
    from profiles.models import User

    return [User(id=10**9 + n, phone=f"+7999000{n:04d}", invite_code=f"RW{n:04d}") for n in numbers]


def test_rows_given_with_the_events_are_written_when_the_block_ends():
    from profiles.models import User

    rows = _members(1, 2)
    with transaction.atomic(), events_together():
        event = event_publish(type="member.created", data={})
        assert rows_insert_with_events(rows) is True
        # Not in the database before the block ends: their statement is the events'.
        assert not User.objects.filter(pk__in=[row.pk for row in rows]).exists()
    assert set(
        User.objects.filter(pk__in=[r.pk for r in rows]).values_list("phone", flat=True)
    ) == {
        "+79990000001",
        "+79990000002",
    }
    assert Event.objects.filter(pk=event.pk).exists()
    assert all(not row._state.adding for row in rows)


@pytest.mark.postgres
def test_rows_given_with_the_events_cost_no_statement_of_their_own(django_assert_num_queries):
    with transaction.atomic(), django_assert_num_queries(1), events_together():
        event_publish(type="member.created", data={})
        rows_insert_with_events(_members(3))


def test_rows_are_not_taken_outside_a_block_or_without_their_ids():
    from profiles.models import User

    assert rows_insert_with_events(_members(4)) is False
    with transaction.atomic(), events_together():
        event_publish(type="member.created", data={})
        assert (
            rows_insert_with_events([User(phone="+79990000005", invite_code="ROWS0005")]) is False
        )
    assert not User.objects.filter(phone__in=["+79990000004", "+79990000005"]).exists()


def test_an_error_inside_the_block_writes_neither_its_rows_nor_its_events():
    from profiles.models import User

    rows = _members(6)
    with pytest.raises(ValueError, match="went wrong"), transaction.atomic(), events_together():
        event_publish(type="member.created", data={})
        rows_insert_with_events(rows)
        raise ValueError("went wrong")
    assert not User.objects.filter(pk=rows[0].pk).exists()
    assert not Event.objects.exists()


def test_a_nested_events_together_joins_the_outer_one():
    with transaction.atomic(), events_together():
        with events_together():
            inner = event_publish(type="reward.created", data={})
        assert not Event.objects.filter(pk=inner.pk).exists()
    assert Event.objects.filter(pk=inner.pk).exists()
