"""Delivery in one process: fan-out, retries on the schedule, failure, replay, the
endpoint disabled after days of failures, the purges, and the row lock that keeps
two workers from sending one attempt at once."""

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from tests.conftest import run_in_parallel
from webhooks import services
from webhooks.models import Attempt, Endpoint, Message

pytestmark = pytest.mark.django_db


@dataclass
class FakeEvent:
    type: str
    data: dict[str, Any]
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=timezone.now)


def fan_out(event: FakeEvent) -> list[Message]:
    """The handler, as the dispatch job runs it (here inside the test's transaction,
    so it queues jobs instead of trying at once): the messages still pending."""
    return list(Message.objects.filter(pk__in=services.event_fan_out(event)).order_by("pk"))


def test_an_event_reaches_the_endpoints_that_subscribe_to_it(receiver):
    exact, _ = services.endpoint_create(url=receiver.url, event_types="member.created")
    every, _ = services.endpoint_create(url=receiver.url, event_types="*")
    services.endpoint_create(url=receiver.url, event_types="reward.created")
    off, _ = services.endpoint_create(url=receiver.url, event_types="*")
    services.endpoint_disable(endpoint=off)
    event = FakeEvent("member.created", {"member": {"id": 1, "phone": "+79990001122"}})
    created = fan_out(event)
    assert {message.endpoint_id for message in created} == {exact.pk, every.pk}
    assert fan_out(event) == created  # a re-run of the handler adds nothing
    assert Message.objects.count() == 2


def test_a_message_is_signed_and_carries_the_event(receiver):
    endpoint, secret = services.endpoint_create(url=receiver.url, event_types="*")
    event = FakeEvent("referral.activated", {"member": {"id": 5}, "inviter": {"id": 4}})
    (message,) = fan_out(event)
    assert services.message_deliver(message_id=message.pk) == "delivered"
    (delivery,) = receiver.received
    assert delivery.headers["webhook-id"] == str(event.id)
    payload = Webhook(secret).verify(delivery.body, delivery.headers)
    assert payload["type"] == "referral.activated"
    assert payload["data"] == {"member": {"id": 5}, "inviter": {"id": 4}}
    assert payload["timestamp"].endswith("Z")
    message.refresh_from_db()
    assert message.state == "delivered" and message.attempts == 1


def test_failures_follow_the_schedule_then_the_message_fails_and_replays(receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [5, 300]
    receiver.plan = [500, 503, 500]
    endpoint, _ = services.endpoint_create(url=receiver.url, event_types="*")
    (message,) = fan_out(FakeEvent("member.created", {}))
    before = timezone.now()
    assert services.message_deliver(message_id=message.pk) == "retry"
    message.refresh_from_db()
    assert message.state == "pending"
    assert (
        before + timedelta(seconds=5)
        <= message.next_attempt_at
        <= timezone.now() + timedelta(seconds=5)
    )
    # Not due yet: a job that comes early sends nothing.
    assert services.message_deliver(message_id=message.pk) == "skipped"
    for expected in ("retry", "failed"):
        Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
        assert services.message_deliver(message_id=message.pk) == expected
    message.refresh_from_db()
    assert (message.state, message.attempts, message.next_attempt_at) == ("failed", 3, None)
    attempt = Attempt.objects.get(message=message, number=2)
    assert attempt.status_code == 503 and attempt.response_excerpt == "answer 503"
    assert len(receiver.received) == 3

    services.message_replay(message=message)
    assert services.message_deliver(message_id=message.pk) == "delivered"
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("delivered", 4)
    assert {d.headers["webhook-id"] for d in receiver.received} == {str(message.event_id)}


def test_replay_every_failed_message_of_an_endpoint(receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = []
    receiver.plan = [500, 500]
    endpoint, _ = services.endpoint_create(url=receiver.url, event_types="*")
    messages = [fan_out(FakeEvent("member.created", {}))[0] for _ in range(2)]
    for message in messages:
        assert services.message_deliver(message_id=message.pk) == "failed"
    assert services.endpoint_replay_failed(endpoint=endpoint) == 2
    for message in messages:
        assert services.message_deliver(message_id=message.pk) == "delivered"


def test_an_endpoint_failing_for_days_is_disabled(receiver, settings):
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 5
    receiver.default = 500
    endpoint, _ = services.endpoint_create(url=receiver.url, event_types="*")
    (first,) = fan_out(FakeEvent("member.created", {}))
    services.message_deliver(message_id=first.pk)
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.failing_since is not None
    Endpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=5, minutes=1)
    )
    (second,) = fan_out(FakeEvent("member.created", {}))
    assert services.message_deliver(message_id=second.pk) == "failed"
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason == "failing"
    # Nothing more goes to it; enabled again, it starts with a clean slate.
    assert fan_out(FakeEvent("member.created", {})) == []
    services.endpoint_enable(endpoint=endpoint)
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.failing_since is None


def test_a_success_ends_the_failing_run(receiver):
    receiver.plan = [500]
    endpoint, _ = services.endpoint_create(url=receiver.url, event_types="*")
    (message,) = fan_out(FakeEvent("member.created", {}))
    services.message_deliver(message_id=message.pk)
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    services.message_deliver(message_id=message.pk)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_the_log_is_kept_log_days_then_purged(receiver, settings):
    settings.WEBHOOK_LOG_DAYS = 30
    services.endpoint_create(url=receiver.url, event_types="*")
    old, pending_old, fresh = (fan_out(FakeEvent("member.created", {}))[0] for _ in range(3))
    for message in (old, fresh):
        services.message_deliver(message_id=message.pk)
    Message.objects.filter(pk__in=[old.pk, pending_old.pk]).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    assert services.log_purge() == 1
    assert set(Message.objects.values_list("pk", flat=True)) == {pending_old.pk, fresh.pk}
    assert not Attempt.objects.filter(message_id=old.pk).exists()


def test_a_deleted_members_data_leaves_the_log(receiver):
    services.endpoint_create(url=receiver.url, event_types="*")
    gone = {"id": 41, "phone": "+79990004141"}
    kept = {"id": 42, "phone": "+79990004242"}
    for data in (
        {"member": gone},
        {"member": kept, "inviter": gone},
        {"member": kept},
        {"member_id": 41},
        {"grant": {"id": 9}, "member": {"id": 41}},
    ):
        (message,) = fan_out(FakeEvent("member.created", data))
        services.message_deliver(message_id=message.pk)
    deleted = FakeEvent("member.deleted", {"member": gone})
    fan_out(deleted)
    assert list(Message.objects.values_list("data", flat=True).order_by("pk")) == [
        {"member": kept},
        {"member": gone},  # the deletion itself: receivers need it
    ]
    assert Message.objects.get(data={"member": gone}).event_id == deleted.id


def test_a_deleted_members_data_leaves_the_log_in_the_flat_payloads(receiver):
    """The shapes the publishers use (profiles, fraud, rewards): ids and phones flat."""
    services.endpoint_create(url=receiver.url, event_types="*")
    gone, kept = "+79990004141", "+79990004242"
    payloads = {
        "gone-created": {"member_id": 41, "phone": gone, "invite_code": "AB2345"},
        "gone-invited": {"member_id": 42, "phone": kept, "inviter_id": 41, "inviter_phone": gone},
        "gone-flagged": {"flag_id": 3, "reason": "same_ip", "inviter_id": 42, "subject_id": 41},
        "kept-reward": {"id": 41, "member_id": 42, "kind": "referrer", "referral_id": None},
        "kept-created": {"member_id": 42, "phone": kept, "invite_code": "CD6789"},
    }
    for name, data in payloads.items():
        (message,) = fan_out(FakeEvent("member.created", {**data, "name": name}))
        services.message_deliver(message_id=message.pk)
    fan_out(FakeEvent("member.deleted", {"member_id": 41, "phone": gone, "deleted_at": "x"}))
    names = set(Message.objects.values_list("data__name", flat=True))
    assert names == {"kept-reward", "kept-created", None}  # None: the deletion itself


def test_a_test_event_goes_to_one_endpoint(receiver):
    endpoint, secret = services.endpoint_create(url=receiver.url, event_types="member.created")
    services.endpoint_create(url=receiver.url, event_types="*")
    message = services.test_event_send(endpoint=endpoint)
    assert services.message_deliver(message_id=message.pk) == "delivered"
    (delivery,) = receiver.received
    assert Webhook(secret).verify(delivery.body, delivery.headers)["type"] == "webhook.test"


def test_a_redirect_or_a_refused_host_is_a_failure(receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = []
    receiver.plan = ["redirect"]
    services.endpoint_create(url=receiver.url, event_types="*")
    (message,) = fan_out(FakeEvent("member.created", {}))
    assert services.message_deliver(message_id=message.pk) == "failed"
    assert Attempt.objects.get(message=message).error == "redirect not followed"
    # Saved while allowed (local use), sent in production: refused at send time.
    settings.WEBHOOK_ALLOW_PRIVATE = False
    services.message_replay(message=Message.objects.get(pk=message.pk))
    assert services.message_deliver(message_id=message.pk) == "failed"
    assert Attempt.objects.get(message=message, number=2).error.startswith("refused")
    assert len(receiver.received) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_one_attempt_at_once(receiver):
    """Both try the same message at the same moment: the row lock lets one send;
    the other skips it (no second request while the first is still in flight)."""
    receiver.plan = ["hang"]
    services.endpoint_create(url=receiver.url, event_types="*")
    with transaction.atomic():  # queue the job only: the two calls below are the workers
        (message,) = fan_out(FakeEvent("member.created", {}))
    release = threading.Timer(1.5, receiver.release)
    release.start()
    results = run_in_parallel([lambda: services.message_deliver(message_id=message.pk)] * 2)
    release.cancel()
    assert sorted(results) == ["delivered", "skipped"], results
    assert len(receiver.received) == 1
    assert Attempt.objects.filter(message=message).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_events_of_one_dispatch_share_one_first_try_budget(receiver, monkeypatch):
    # An activation's three events come in one dispatch job. With a receiver that
    # hangs, the first event's try spends the budget, and the other two go to the
    # queue at once (other workers send them) instead of each waiting out its own.
    from events.dispatch import events_dispatch
    from events.services import events_publish

    monkeypatch.setattr(services, "FIRST_TRY_BUDGET", 0.2)
    services.endpoint_create(url=receiver.url, event_types="*")
    receiver.plan = ["hang"]
    threading.Timer(0.6, receiver.release).start()
    events = events_publish(events=[("member.created", {"n": n}) for n in range(3)])
    events_dispatch(event_ids=[str(event.pk) for event in events])
    assert len(receiver.received) == 1  # only the first event's message was tried here
    first, *later = Message.objects.order_by("occurred_at", "pk")
    assert first.state == Message.State.DELIVERED
    assert [m.state for m in later] == [Message.State.PENDING] * 2
    ours = {first.pk, *(m.pk for m in later)}
    assert sorted(set(queued_deliveries()) & ours) == sorted(m.pk for m in later)


def queued_deliveries() -> list[int]:
    """The messages a delivery job waits for (other tests' jobs may be there too)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (args->>'message_id')::int FROM procrastinate_jobs"
            " WHERE task_name = 'webhooks.deliver' AND status = 'todo'"
        )
        return [row[0] for row in cursor.fetchall()]
