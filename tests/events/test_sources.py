"""Each domain event is published by the change it reports, in its transaction."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Event
from profiles.errors import InviteOwnCode
from profiles.models import User
from profiles.services import invite_activate, member_suspend
from tests.staff_console.conftest import staff_with

pytestmark = [pytest.mark.django_db]
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def _last(type_: str) -> dict:
    return Event.objects.filter(type=type_).latest("occurred_at").data


def test_a_new_member_is_published_with_their_e164_phone_and_code():
    member = User.objects.create_user("+7 999 555-16-01")

    data = _last("member.created")
    assert data["member_id"] == member.pk
    assert data["phone"] == "+79995551601"
    assert data["invite_code"] == member.invite_code
    assert ISO_UTC.match(data["joined_at"])


def test_an_activation_publishes_with_one_statement_and_a_refused_one_publishes_nothing(
    make_member,
):
    inviter, friend = make_member(), make_member()
    with pytest.raises(InviteOwnCode):
        invite_activate(user=inviter, code=inviter.invite_code)
    assert not Event.objects.filter(type="referral.activated").exists()

    with CaptureQueriesContext(connection) as queries:
        invite_activate(user=friend, code=inviter.invite_code.lower())

    data = _last("referral.activated")
    assert data == {
        "member_id": friend.pk,
        "phone": str(friend.phone),
        "inviter_id": inviter.pk,
        "inviter_phone": str(inviter.phone),
        "invite_code": inviter.invite_code,
        "activated_at": data["activated_at"],
    }
    assert ISO_UTC.match(data["activated_at"])
    outbox = [
        q["sql"]
        for q in queries.captured_queries
        if "events_" in q["sql"] or "procrastinate" in q["sql"]
    ]
    if connection.vendor == "postgresql":
        assert len(outbox) == 1, outbox  # the event rows and their relay marker, together


def test_suspension_and_deletion_are_published(make_member):
    operator = staff_with("+79990000001", "change_user")
    member = make_member()

    member_suspend(member=member, by=operator)
    suspended = _last("member.suspended")
    member_pk, phone = member.pk, str(member.phone)
    member.delete()
    deleted = _last("member.deleted")

    assert (suspended["member_id"], suspended["phone"], suspended["by_id"]) == (
        member_pk,
        phone,
        operator.pk,
    )
    assert ISO_UTC.match(suspended["suspended_at"])
    assert (deleted["member_id"], deleted["phone"]) == (member_pk, phone)
    assert ISO_UTC.match(deleted["deleted_at"])


@pytest.mark.postgres
def test_a_rolled_back_deletion_publishes_nothing(make_member):
    from django.db import transaction

    member = make_member()
    with pytest.raises(RuntimeError), transaction.atomic():
        member.delete()
        raise RuntimeError
    assert not Event.objects.filter(type="member.deleted").exists()
