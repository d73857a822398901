"""GET /api/v1/rewards/: totals, the next milestone and the ledger, newest first."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fraud.models import FraudFlag
from rewards.models import Grant

pytestmark = pytest.mark.django_db


def test_the_member_reads_totals_progress_and_the_ledger(
    program, activate, make_member, member_api
):
    program(milestones={2: 500, 5: 900}, hold_days=14)
    inviter, first, second = make_member(), make_member(), make_member()
    activate(first, inviter)
    activate(second, inviter)
    Grant.objects.filter(referral_id=first.pk, kind="referrer").update(state="voided",
        reason="staff", voided_at=Grant.objects.first().created_at)  # fmt: skip

    body = member_api(inviter).get("/api/v1/rewards/").json()

    assert set(body) == {"unit", "totals", "next_milestone", "count", "next", "previous", "results"}
    assert body["unit"] == "points"
    assert body["totals"] == {"pending": 600, "approved": 0, "fulfilled": 0}
    assert body["next_milestone"] == {"referrals_needed": 3, "amount": 900}
    assert body["count"] == 3 and body["next"] is None and body["previous"] is None
    newest = body["results"][0]
    assert set(newest) == {"id", "kind", "amount", "unit", "state", "referral", "milestone",
                           "available_at", "reason", "created_at"}  # fmt: skip
    kinds = [(r["kind"], r["referral"], r["milestone"], r["state"], r["reason"])
             for r in body["results"]]  # fmt: skip
    assert sorted(kinds, key=str) == sorted(
        [
            ("milestone", None, 2, "pending", None),
            ("referrer", str(second.phone), None, "pending", None),
            ("referrer", str(first.phone), None, "voided", "staff"),
        ],
        key=str,
    )
    assert newest["available_at"].endswith("Z")


def test_a_held_grant_says_on_review(program, activate, make_member, member_api):
    program()
    inviter, friend = make_member(), make_member()
    activate(friend, inviter)
    FraudFlag.objects.create(reason="burst", inviter=inviter, raised_at=friend.date_joined,
                             updated_at=friend.date_joined)  # fmt: skip
    [row] = member_api(inviter).get("/api/v1/rewards/").json()["results"]
    assert (row["state"], row["reason"]) == ("pending", "on_review")


def test_no_program_and_no_grants(member_api):
    body = member_api().get("/api/v1/rewards/").json()
    assert body == {
        "unit": None,
        "totals": {"pending": 0, "approved": 0, "fulfilled": 0},
        "next_milestone": None,
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_pages_of_fifty_and_queries_do_not_grow(program, activate, make_member, member_api):
    program(friend_amount=0)
    inviter = make_member()
    for _ in range(3):
        activate(make_member(), inviter)
    client = member_api(inviter)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/rewards/")
    for _ in range(52):
        activate(make_member(), inviter)
    with CaptureQueriesContext(connection) as many:
        body = client.get("/api/v1/rewards/").json()
    assert len(many) == len(few)
    assert body["count"] == 55 and len(body["results"]) == 50 and "page=2" in body["next"]
    assert len(client.get(body["next"]).json()["results"]) == 5


def test_signed_out_is_401_with_the_error_shape(api):
    response = api.get("/api/v1/rewards/")
    assert response.status_code == 401
    assert set(response.json()) >= {"code", "detail"}


def test_the_schema_documents_it(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/v1/rewards/" in schema and "next_milestone" in schema


def test_a_masked_referral_reads_as_the_profile_shows_it(
    settings, program, activate, make_member, member_api
):
    # REFERRAL_PHONES=masked: the ledger names a referral exactly as the member's
    # referrals list does, never more of the number.
    settings.REFERRAL_PHONES = "masked"
    program()
    inviter, friend = make_member(), make_member()
    activate(friend, inviter)
    api = member_api(inviter)
    [shown] = api.get("/api/v1/profile/").json()["referrals"]
    [row] = api.get("/api/v1/rewards/").json()["results"]
    assert row["referral"] == shown
    assert str(friend.phone)[-4:] not in row["referral"].replace(" ", "").replace("-", "")
