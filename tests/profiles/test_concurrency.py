"""Activation under parallel requests on PostgreSQL."""

import pytest

from profiles.errors import InviteError
from profiles.models import User
from profiles.services import invite_activate, referrals_recount
from tests.conftest import run_in_parallel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_parallel_activations_by_one_member_exactly_one_wins(make_member):
    member = make_member()
    owners = [make_member() for _ in range(20)]

    results = run_in_parallel(
        [
            lambda o=o: invite_activate(user=User.objects.get(pk=member.pk), code=o.invite_code)
            for o in owners
        ]
    )

    winners = [r for r in results if isinstance(r, User)]
    assert len(winners) == 1, results
    assert all(
        getattr(r, "code", None) == "invite_already_activated" for r in results if r not in winners
    )
    member.refresh_from_db()
    assert member.referred_by_id == winners[0].referred_by_id


@pytest.mark.parametrize("attempt", range(5))
def test_two_members_activating_each_other_at_once_never_form_a_cycle(make_member, attempt):
    a, b = make_member(), make_member()
    results = run_in_parallel(
        [
            lambda: invite_activate(user=User.objects.get(pk=a.pk), code=b.invite_code),
            lambda: invite_activate(user=User.objects.get(pk=b.pk), code=a.invite_code),
        ]
    )
    assert sum(isinstance(r, User) for r in results) == 1, results
    assert [r.code for r in results if isinstance(r, InviteError)] == ["invite_cycle"]


def test_a_ring_of_parallel_activations_never_closes(make_member):
    members = [make_member() for _ in range(6)]
    ring = [
        lambda m=m, n=n: invite_activate(user=User.objects.get(pk=m.pk), code=n.invite_code)
        for m, n in zip(members, members[1:] + members[:1], strict=True)
    ]
    results = run_in_parallel(ring)
    assert sum(isinstance(r, User) for r in results) == len(members) - 1, results


def test_parallel_activations_of_one_code_count_every_referral(make_member):
    owner = make_member()
    members = [make_member() for _ in range(24)]
    results = run_in_parallel(
        [
            lambda m=m: invite_activate(user=User.objects.get(pk=m.pk), code=owner.invite_code)
            for m in members
        ]
    )
    assert all(isinstance(r, User) for r in results), results
    owner.refresh_from_db()
    assert owner.referrals_count == owner.referrals.count() == 24
    assert owner.referrals_changes == 24


def test_parallel_activations_and_deletions_never_drift(make_member):
    owner = make_member()
    leaving = [make_member() for _ in range(8)]
    for member in leaving:
        invite_activate(user=member, code=owner.invite_code)
    joining = [make_member() for _ in range(8)]
    # Copies loaded before anything runs, as a page that deletes might hold them.
    late_joiners = [User.objects.get(pk=m.pk) for m in joining[:4]]
    work = [lambda m=m: User.objects.get(pk=m.pk).delete() for m in leaving]
    work += [
        lambda m=m: invite_activate(user=User.objects.get(pk=m.pk), code=owner.invite_code)
        for m in joining
    ]
    work += [lambda m=m: m.delete() for m in late_joiners]
    results = run_in_parallel(work)
    # A member deleted before their own activation ran is simply gone.
    expected = (InviteError, User.DoesNotExist)
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, expected)]
    owner.refresh_from_db()
    assert owner.referrals_count == owner.referrals.count()
    assert referrals_recount() == []
