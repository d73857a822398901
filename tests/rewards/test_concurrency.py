"""Parallel activations into one inviter: caps and milestones stay exact (the
inviter's row lock covers them), with real parallel connections."""

import pytest

from profiles.models import User
from profiles.services import invite_activate
from rewards.models import Grant, Program
from tests.conftest import run_in_parallel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_parallel_activations_cross_one_milestone_and_stop_at_the_cap(program, make_member):
    # Cap 8 a month: 7 referral grants + the milestone at 5 = 8; the rest are capped.
    program(milestones={5: 500}, monthly_cap=8, total_cap=20, friend_amount=50)
    inviter = make_member()
    friends = [make_member() for _ in range(20)]

    results = run_in_parallel(
        [
            lambda f=f: invite_activate(user=User.objects.get(pk=f.pk), code=inviter.invite_code)
            for f in friends
        ]
    )

    assert all(isinstance(r, User) for r in results), results
    mine = Grant.objects.filter(member_id=inviter.pk)
    assert mine.filter(kind="milestone").count() == 1
    assert mine.filter(kind="milestone", milestone=5).exclude(state="voided").count() == 1
    assert mine.filter(kind="referrer").count() == 20
    assert mine.filter(kind="referrer").exclude(state="voided").count() == 7
    assert mine.filter(kind="referrer", state="voided", reason="cap").count() == 13
    # Each friend's own reward is theirs, under their own cap.
    assert Grant.objects.filter(kind="friend").exclude(state="voided").count() == 20


def test_a_program_changed_by_another_process_counts_for_the_next_activation(program, make_member):
    # Nothing keeps a copy of the program between activations: another connection's
    # change (committed) is what the very next activation here earns.
    program(referrer_amount=100)
    inviter = make_member()
    invite_activate(user=make_member(), code=inviter.invite_code)
    [changed] = run_in_parallel([lambda: program(referrer_amount=300, unit="RUB")])
    assert changed.referrer_amount == 300
    invite_activate(user=make_member(), code=inviter.invite_code)
    [changed] = run_in_parallel([lambda: Program.objects.all().delete()])
    invite_activate(user=make_member(), code=inviter.invite_code)
    assert sorted(
        Grant.objects.filter(member_id=inviter.pk, kind="referrer").values_list("amount", "unit")
    ) == [(100, "points"), (300, "RUB")]
