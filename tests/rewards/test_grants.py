"""Grants at an activation: each rule grants, and its near miss does not."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from events.models import Event
from profiles.models import User
from rewards.keys import phone_key
from rewards.models import Grant
from rewards.services import grants_for_activation

pytestmark = pytest.mark.django_db


def grants(member: User) -> list[tuple[str, int, str, str]]:
    return sorted(
        (g.kind, g.amount, g.state, g.reason) for g in Grant.objects.filter(member_id=member.pk)
    )


def test_an_activation_rewards_the_inviter_and_the_friend(program, activate, make_member):
    program(hold_days=14)
    inviter, friend = make_member(), make_member()
    activate(friend, inviter)
    assert grants(inviter) == [("referrer", 100, "pending", "")]
    assert grants(friend) == [("friend", 50, "pending", "")]
    grant = Grant.objects.get(member_id=inviter.pk)
    assert grant.referral_id == friend.pk and grant.unit == "points"
    assert grant.available_at - grant.activated_at == timedelta(days=14)


def test_near_miss_no_program_no_grants(activate, make_member):
    inviter, friend = make_member(), make_member()
    activate(friend, inviter)
    assert Grant.objects.count() == 0


def test_a_zero_amount_grants_nothing_of_that_kind(program, activate, make_member):
    program(friend_amount=0)
    inviter, friend = make_member(), make_member()
    activate(friend, inviter)
    assert grants(inviter) == [("referrer", 100, "pending", "")]
    assert grants(friend) == []


def test_the_milestone_is_granted_by_the_activation_that_reaches_it(program, activate, make_member):
    program(milestones={3: 500})
    inviter = make_member()
    for _ in range(2):
        activate(make_member(), inviter)
    assert [g for g in grants(inviter) if g[0] == "milestone"] == []  # near miss: 2 of 3
    activate(make_member(), inviter)
    assert [g for g in grants(inviter) if g[0] == "milestone"] == [
        ("milestone", 500, "pending", "")
    ]
    assert Grant.objects.get(kind="milestone").milestone == 3
    activate(make_member(), inviter)  # past it: no second
    assert Grant.objects.filter(kind="milestone").count() == 1


def test_the_monthly_cap_voids_the_grant_past_it(program, activate, make_member):
    program(monthly_cap=2, friend_amount=0)
    inviter = make_member()
    for _ in range(3):
        activate(make_member(), inviter)
    assert grants(inviter) == [
        ("referrer", 100, "pending", ""),
        ("referrer", 100, "pending", ""),
        ("referrer", 100, "voided", "cap"),
    ]


def test_the_monthly_cap_counts_only_this_calendar_month(program, activate, make_member):
    program(monthly_cap=1, friend_amount=0)
    inviter = make_member()
    activate(make_member(), inviter)
    Grant.objects.update(created_at=timezone.now() - timedelta(days=40))  # last month
    activate(make_member(), inviter)
    assert [g[2] for g in grants(inviter)] == ["pending", "pending"]


def test_the_total_cap_counts_grants_of_every_kind(program, activate, make_member):
    program(total_cap=3, milestones={2: 500}, friend_amount=0)
    inviter = make_member()
    for _ in range(3):
        activate(make_member(), inviter)
    # referral 1, referral 2, milestone at 2 = 3 grants; the third referral is capped.
    assert grants(inviter) == [
        ("milestone", 500, "pending", ""),
        ("referrer", 100, "pending", ""),
        ("referrer", 100, "pending", ""),
        ("referrer", 100, "voided", "cap"),
    ]


def test_a_voided_grant_does_not_count_against_the_cap(program, activate, make_member):
    program(total_cap=1, friend_amount=0)
    inviter = make_member()
    activate(make_member(), inviter)
    Grant.objects.update(state="voided", reason="staff", voided_at=timezone.now())
    activate(make_member(), inviter)
    assert sorted(g[2] for g in grants(inviter)) == ["pending", "voided"]


def test_a_program_change_affects_only_later_activations(program, activate, make_member):
    program()
    inviter = make_member()
    activate(make_member(), inviter)
    program(referrer_amount=300, unit="RUB")
    activate(make_member(), inviter)
    assert sorted((g.amount, g.unit) for g in Grant.objects.filter(member_id=inviter.pk)) == [
        (100, "points"),
        (300, "RUB"),
    ]


def test_replaying_an_activation_changes_nothing(program, activate, make_member):
    program(milestones={1: 500})
    inviter, friend = make_member(), make_member()
    activate(friend, inviter)
    before = sorted(Grant.objects.values_list("pk", "kind", "state"))
    friend.refresh_from_db()
    inviter.refresh_from_db()
    assert grants_for_activation(member=friend, inviter=inviter) == []
    assert grants_for_activation(member=friend, inviter=inviter) == []
    assert sorted(Grant.objects.values_list("pk", "kind", "state")) == before
    assert len(before) == 3


def test_a_phone_that_left_and_joined_again_never_earns_its_inviter_twice(
    program, activate, make_member
):
    program(milestones={1: 500})
    inviter, friend = make_member(), make_member()
    phone = str(friend.phone)
    activate(friend, inviter)
    friend.delete()
    again = make_member(phone)
    activate(again, inviter)
    assert Grant.objects.filter(member_id=inviter.pk, kind="referrer").count() == 1
    assert Grant.objects.filter(kind="friend").count() == 1  # the friend's reward, once too
    assert Grant.objects.filter(kind="milestone").count() == 1  # count went 1 -> 0 -> 1
    kept = Grant.objects.get(kind="referrer")
    assert kept.referral_id is None and kept.referral_key == phone_key(phone)
    assert (kept.state, kept.reason) == ("voided", "referral_left")


def test_the_database_refuses_a_second_grant_for_one_referral(program, activate, make_member):
    program()
    inviter, friend = make_member(), make_member()
    activate(friend, inviter)
    grant = Grant.objects.get(kind="referrer")
    grant.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        grant.save()
    milestone = Grant(
        member_id=inviter.pk, kind="milestone", milestone=3, amount=1, unit="points",
        activated_at=grant.activated_at, available_at=grant.available_at,
        created_at=grant.created_at,
    )  # fmt: skip
    milestone.save()
    milestone.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        milestone.save()


def _activation_statements(member: User, inviter: User) -> list[str]:
    """The SQL an activation runs, without the test's own savepoint around it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from profiles.services import invite_activate

    member = User.objects.get(pk=member.pk)
    with CaptureQueriesContext(connection) as queries:
        invite_activate(user=member, code=inviter.invite_code)
    savepoints = ("SAVEPOINT", "RELEASE")
    return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(savepoints)]


@pytest.mark.postgres
def test_the_program_costs_an_activation_no_statement_of_its_own(program, make_member):
    # Without a program: the chain read with the locks and the write (one statement),
    # the rewards read (program and counts), the event with its job. With one, the same
    # three: the rewards read takes the grants' ids, and the grants are written in the
    # statement of the events (theirs and the activation's).
    without = _activation_statements(make_member(), make_member())
    program(milestones={1: 500})
    member, inviter = make_member(), make_member()
    granted = _activation_statements(member, inviter)
    assert len(without) == 3, without
    assert len(granted) == 3, granted
    assert 'INSERT INTO "rewards_grant"' in granted[-1]
    grants = {g.kind: g for g in Grant.objects.all()}
    assert set(grants) == {"referrer", "milestone", "friend"}
    assert grants["friend"].member_id == member.pk
    assert grants["referrer"].member_id == grants["milestone"].member_id == inviter.pk
    # Each grant's reward.created event names the grant as written.
    created = Event.objects.filter(type="reward.created")
    assert sorted((e.data["id"], e.data["kind"]) for e in created) == sorted(
        (g.pk, kind) for kind, g in grants.items()
    )


def test_the_friends_grant_moves_the_friends_list_version_once(program, activate, make_member):
    program()
    inviter, friend = make_member(), make_member()
    activate(friend, inviter)
    friend.refresh_from_db()
    # The activation moved it (whom they joined, their own reward), nothing moved it again.
    assert friend.referrals_changes == 1
    assert Grant.objects.filter(member_id=friend.pk, kind="friend").exists()
