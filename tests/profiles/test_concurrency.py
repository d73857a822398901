"""Activation under parallel requests on PostgreSQL."""

import pytest

from profiles.errors import InviteError
from profiles.models import User
from profiles.services import invite_activate
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
