"""Webhooks through real queue workers on PostgreSQL and a real local receiver:
the outbox's event, signed, retried, surviving a worker killed mid-delivery."""

import json
import time
from uuid import UUID

import pytest
from django.db import transaction
from standardwebhooks.webhooks import Webhook

from events.services import event_publish
from tests.fakes.worker import wait_for
from webhooks import services
from webhooks.models import Message

pytestmark = [pytest.mark.postgres]

WORKER_ENV = {"WEBHOOK_ALLOW_PRIVATE": "1", "WEBHOOK_RETRY_SCHEDULE": "1,1"}


def test_an_event_is_delivered_signed_and_a_rolled_back_one_never(queue_workers, receiver):
    endpoint, secret = services.endpoint_create(url=receiver.url, event_types="*")
    queue_workers.start(env=WORKER_ENV)
    with pytest.raises(RuntimeError), transaction.atomic():
        event_publish(type="member.created", data={"member": {"id": 1, "rolled_back": True}})
        raise RuntimeError("the change fails after publishing")
    with transaction.atomic():
        event = event_publish(type="member.created", data={"member": {"id": 2}})

    (delivery,) = receiver.wait_for(1)
    assert delivery.headers["webhook-id"] == str(event.pk)
    payload = Webhook(secret).verify(delivery.body, delivery.headers)
    assert payload == {
        "type": "member.created",
        "timestamp": payload["timestamp"],
        "data": {"member": {"id": 2}},
    }
    wait_for(lambda: Message.objects.filter(state="delivered").count() == 1)
    time.sleep(1.5)  # the rolled-back event would have come by now
    assert len(receiver.received) == 1
    assert Message.objects.count() == 1


def test_500_twice_then_200_arrives_on_the_third_try(queue_workers, receiver):
    receiver.plan = [500, 500]
    services.endpoint_create(url=receiver.url, event_types="referral.activated")
    queue_workers.start(env=WORKER_ENV)
    event = event_publish(type="referral.activated", data={"member": {"id": 3}})
    deliveries = receiver.wait_for(3)
    assert len(deliveries) == 3
    assert {d.headers["webhook-id"] for d in deliveries} == {str(event.pk)}
    message = wait_for(lambda: Message.objects.filter(state="delivered").first())
    assert message.attempts == 3
    assert list(message.attempt_log.values_list("status_code", flat=True)) == [500, 500, 200]


def test_a_worker_killed_mid_delivery_loses_nothing(queue_workers, receiver):
    """kill -9 while the receiver holds the request: a new worker sends it again
    (the same webhook-id: a duplicate is allowed, a loss is not) within 30 s."""
    receiver.plan = ["hang"]
    services.endpoint_create(url=receiver.url, event_types="*")
    # The heartbeat tuned for the drill (defaults: 2 s, stalled after 10 s).
    env = {**WORKER_ENV, "QUEUE_HEARTBEAT_SECONDS": "1", "QUEUE_STALLED_SECONDS": "5"}
    first = queue_workers.start(env=env)
    event = event_publish(type="member.created", data={"member": {"id": 4}})
    receiver.wait_for(1)
    first.kill()
    killed = time.monotonic()
    queue_workers.start(env=env)
    deliveries = receiver.wait_for(2, timeout=30)
    assert len(deliveries) == 2, "the message did not arrive again after the kill"
    assert time.monotonic() - killed < 30
    assert {d.headers["webhook-id"] for d in deliveries} == {str(event.pk)}
    message = wait_for(lambda: Message.objects.filter(state="delivered").first())
    # The killed try rolled back with its worker: only the completed one is logged.
    assert message.attempts == 1
    receiver.release()


def test_an_activation_reaches_the_endpoint_with_the_documented_fields(
    queue_workers, receiver, make_member
):
    """The real publisher (profiles' activation, through the outbox) to the receiver:
    the fields docs/webhooks.md lists for referral.activated, signed."""
    from profiles.services import invite_activate

    _, secret = services.endpoint_create(url=receiver.url, event_types="referral.activated")
    queue_workers.start(env=WORKER_ENV)
    inviter, friend = make_member(), make_member()
    invite_activate(user=friend, code=inviter.invite_code)
    (delivery,) = receiver.wait_for(1)
    payload = Webhook(secret).verify(delivery.body, delivery.headers)
    assert payload["type"] == "referral.activated"
    data = payload["data"]
    assert set(data) >= {
        "member_id",
        "phone",
        "inviter_id",
        "inviter_phone",
        "invite_code",
        "activated_at",
    }
    assert (data["member_id"], data["inviter_id"]) == (friend.pk, inviter.pk)
    assert (data["phone"], data["inviter_phone"]) == (str(friend.phone), str(inviter.phone))
    assert data["invite_code"] == inviter.invite_code and data["activated_at"].endswith("Z")


def test_an_activation_with_the_program_delivers_its_three_events_from_one_job_in_order(
    queue_workers, receiver, make_member
):
    """The activation and its two grants publish three events in one write: one
    dispatch job carries them (the relay never splits a write, events/relay.py), and the
    worker hands each to the
    fan-out in the order published, so all three arrive, in that order."""
    from django.db import connection

    from events.models import Event
    from events.relay import events_relay_all
    from profiles.services import invite_activate
    from rewards.services import program_set

    program_set(referrer_amount=100, friend_amount=50, unit="points", hold_days=0)
    services.endpoint_create(url=receiver.url, event_types="*")
    inviter, friend = make_member(), make_member()
    with connection.cursor() as cursor:
        events_relay_all()  # the members' own events, as a worker's relay would
        cursor.execute("DELETE FROM procrastinate_jobs")
        invite_activate(user=friend, code=inviter.invite_code)
        events_relay_all()
        cursor.execute("SELECT args FROM procrastinate_jobs WHERE task_name = 'events.dispatch'")
        (job,) = cursor.fetchall()
    ids = json.loads(job[0])["event_ids"]
    events = Event.objects.in_bulk(ids)
    assert [events[UUID(pk)].type for pk in ids] == [
        "referral.activated",
        "reward.created",
        "reward.created",
    ]
    queue_workers.start(env=WORKER_ENV)

    # Other jobs' events may arrive in between (the judging and approval the activation
    # sets off, with no hold): only these three count, and in this order.
    def arrived() -> list[str]:
        return [
            d.headers["webhook-id"] for d in receiver.received if d.headers["webhook-id"] in ids
        ]

    wait_for(lambda: len(arrived()) >= 3)
    assert arrived() == ids
    wait_for(lambda: Message.objects.filter(event_id__in=ids, state="delivered").count() == 3)
