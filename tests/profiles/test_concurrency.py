"""Activation under parallel requests on PostgreSQL."""

import pytest

from profiles.errors import InviteError
from profiles.models import User
from profiles.services import invite_activate, referrals_recount
from tests.conftest import run_in_parallel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True, params=["direct", "pgbouncer"])
def database_route(request):
    """Each race runs twice: straight to PostgreSQL, and through PgBouncer in transaction mode."""
    if request.param == "pgbouncer":
        request.getfixturevalue("through_pgbouncer")
    return request.param


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


def _activate(member: User, owner: User):
    return lambda: invite_activate(user=User.objects.get(pk=member.pk), code=owner.invite_code)


def _chain(make_member, length: int) -> list[User]:
    """Members each invited by the one before: chain[0] is the root."""
    chain = [make_member()]
    for _ in range(length - 1):
        chain.append(invite_activate(user=make_member(), code=chain[-1].invite_code))
    return chain


@pytest.mark.parametrize("size", [3, 4, 30])
def test_rings_of_every_size_never_close(make_member, size):
    members = [make_member() for _ in range(size)]
    results = run_in_parallel(
        [_activate(m, n) for m, n in zip(members, members[1:] + members[:1], strict=True)]
    )
    assert sum(isinstance(r, User) for r in results) == size - 1, results
    assert [r.code for r in results if isinstance(r, InviteError)] == ["invite_cycle"]


@pytest.mark.parametrize("attempt", range(3))
def test_two_long_chains_entering_each_others_leaves_join_only_once(make_member, attempt):
    left, right = _chain(make_member, 40), _chain(make_member, 40)
    # Each root enters the other chain's last code at once, while newcomers join
    # members all along both chains: exactly one of the roots may win.
    work = [_activate(left[0], right[-1]), _activate(right[0], left[-1])]
    newcomers = [make_member() for _ in range(10)]
    work += [_activate(n, (left + right)[i * 8]) for i, n in enumerate(newcomers)]
    results = run_in_parallel(work)
    assert all(isinstance(r, User) for r in results[2:]), results
    assert sorted(type(r).__name__ for r in results[:2]) == ["InviteCycle", "User"], results
    for member in left + right:
        member.refresh_from_db()
        assert member.referrals_count == member.referrals.count()


def test_a_root_cannot_enter_the_code_of_a_member_far_down_its_chain(make_member):
    chain = _chain(make_member, 60)
    results = run_in_parallel(
        [_activate(chain[0], chain[-1])]
        + [_activate(make_member(), chain[i]) for i in range(0, 60, 6)]
    )
    assert isinstance(results[0], InviteError) and results[0].code == "invite_cycle"
    assert all(isinstance(r, User) for r in results[1:]), results


def test_activations_in_another_tree_do_not_wait_for_an_open_one(make_member):
    """An activation holding its tree's locks (not yet committed) stops no other tree."""
    import threading

    from django.db import connection, transaction

    busy_root, busy_member = make_member(), make_member()
    other_root, other_member = make_member(), make_member()
    locked, release = threading.Event(), threading.Event()

    def hold_open() -> None:
        try:
            with transaction.atomic():
                invite_activate(user=busy_member, code=busy_root.invite_code)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_open)
    holder.start()
    try:
        assert locked.wait(30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            joined = invite_activate(user=other_member, code=other_root.invite_code)
        assert joined.referred_by_id == other_root.pk
    finally:
        release.set()
        holder.join(30)
    busy_member.refresh_from_db()
    assert busy_member.referred_by_id == busy_root.pk


def test_recount_during_parallel_joins_and_departures_finds_nothing(make_member):
    chain = _chain(make_member, 12)
    leaving = chain[4:8]
    work = [lambda m=m: User.objects.get(pk=m.pk).delete() for m in leaving]
    work += [_activate(make_member(), chain[i]) for i in range(12) for _ in range(2)]
    work += [referrals_recount for _ in range(3)]
    results = run_in_parallel(work)
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, InviteError)]
    assert [r for r in results if isinstance(r, list)] == [[], [], []]
    assert referrals_recount() == []
    for member in User.objects.all():
        assert member.referrals_count == member.referrals.count()
