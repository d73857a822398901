"""The member's rewards in "Download my data": every grant and the totals, on the web
download and the API export alike."""

import json

import pytest
from django.test import Client
from django.utils import timezone

from core.phones import phone_masked
from core.staff import PHONE_CODE_BACKEND
from fraud.models import FraudFlag
from rewards.models import Grant
from rewards.services import grant_fulfil, grants_approve_due

pytestmark = pytest.mark.django_db
GRANT_FIELDS = {"id", "kind", "amount", "unit", "state", "on_review", "referral", "milestone",
                "available_at", "reason", "created_at", "approved_at", "fulfilled_at",
                "voided_at"}  # fmt: skip


@pytest.fixture
def ledger(program, activate, judged, make_member):
    """An inviter with three referrals (a milestone at 2): one grant received, one
    voided by staff, one pending, the milestone approved; the inviter entered a code
    of their own too (a friend grant)."""
    program(milestones={2: 500})
    top, inviter = make_member(), make_member()
    activate(inviter, top)
    friends = [make_member() for _ in range(2)]
    for friend in friends:
        activate(friend, inviter)
    judged()
    grants_approve_due()
    mine = Grant.objects.filter(member=inviter, kind="referrer")
    grant_fulfil(grant=mine.get(referral=friends[0]), by=None)
    mine.filter(referral=friends[1]).update(
        state="voided", reason="staff", voided_at=timezone.now(), approved_at=None
    )
    late = make_member()
    activate(late, inviter)  # after the judging: still pending
    return inviter, [*friends, late]


def exported(member, via: str) -> dict:
    if via == "web":
        client = Client()
        client.force_login(member, backend=PHONE_CODE_BACKEND)
        return json.loads(client.get("/profile/data/").content)["rewards"]
    from tests.profiles.test_member_data import bearer

    return bearer(member)[0].get("/api/v1/profile/export/").json()["rewards"]


@pytest.mark.parametrize("via", ["web", "api"])
def test_the_export_lists_every_grant_and_the_totals(ledger, via):
    inviter, (received, voided, late) = ledger

    data = exported(inviter, via)

    assert data["totals"] == [
        {"unit": "points", "grants": 5, "pending": 100, "approved": 550,
         "fulfilled": 100, "voided": 100}
    ]  # fmt: skip
    rows = {(g["kind"], g["referral"], g["milestone"]): g for g in data["grants"]}
    assert set(rows) == {
        ("friend", str(inviter.phone), None),
        ("referrer", str(received.phone), None),
        ("referrer", str(voided.phone), None),
        ("referrer", str(late.phone), None),
        ("milestone", None, 2),
    }
    assert all(set(g) == GRANT_FIELDS for g in data["grants"])
    paid = rows["referrer", str(received.phone), None]
    assert (paid["state"], paid["amount"], paid["unit"]) == ("fulfilled", 100, "points")
    assert paid["approved_at"].endswith("Z") and paid["fulfilled_at"].endswith("Z")
    gone = rows["referrer", str(voided.phone), None]
    assert (gone["state"], gone["reason"]) == ("voided", "staff") and gone["voided_at"]
    waiting = rows["referrer", str(late.phone), None]
    assert (waiting["state"], waiting["approved_at"], waiting["reason"]) == ("pending", None, None)
    assert rows["milestone", None, 2]["state"] == "approved"
    assert [g["created_at"] for g in data["grants"]] == sorted(
        (g["created_at"] for g in data["grants"]), reverse=True
    ), "newest first"


def test_referrals_are_shown_as_the_referral_list_shows_them(ledger, settings):
    settings.REFERRAL_PHONES = "masked"
    inviter, referrals = ledger

    shown = {g["referral"] for g in exported(inviter, "api")["grants"] if g["kind"] == "referrer"}

    assert shown == {phone_masked(str(r.phone)) for r in referrals}
    assert not any(str(r.phone) in json.dumps(exported(inviter, "web")) for r in referrals)


def test_a_grant_an_open_flag_holds_is_on_review(program, activate, make_member):
    program()
    inviter, friend = make_member(), make_member()
    activate(friend, inviter)
    FraudFlag.objects.create(reason="burst", inviter=inviter, raised_at=friend.date_joined,
                             updated_at=friend.date_joined)  # fmt: skip

    [grant] = exported(inviter, "api")["grants"]

    assert (grant["state"], grant["on_review"]) == ("pending", True)
    assert exported(friend, "api")["grants"][0]["on_review"] is False


def test_a_member_without_grants_exports_an_empty_section(make_member):
    assert exported(make_member(), "web") == {"totals": [], "grants": []}


def test_the_schema_describes_the_section_as_it_is_built(ledger):
    from profiles.api import ExportSerializer
    from profiles.api_schema import EXPORT_EXAMPLE

    data = exported(ledger[0], "api")
    example = EXPORT_EXAMPLE["rewards"]
    assert set(example["grants"][0]) == set(data["grants"][0]) == GRANT_FIELDS
    assert set(example["totals"][0]) == set(data["totals"][0])
    section = ExportSerializer().fields["rewards"]
    assert set(section.fields["grants"].child.fields) == GRANT_FIELDS
    assert set(section.fields["totals"].child.fields) == set(data["totals"][0])
