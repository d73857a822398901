"""Invite codes and activation (docs/api.md: the invite errors)."""

import pytest
from django.db import transaction

from profiles.errors import (
    InviteAlreadyActivated,
    InviteCycle,
    InviteNotFound,
    InviteOwnCode,
    SuspendOwnAccount,
)
from profiles.models import INVITE_CODE_ALPHABET, User
from profiles.selectors import invite_target_get
from profiles.services import (
    invite_activate,
    invite_code_generate,
    member_get_or_create,
    member_suspend,
    referrals_recount,
)

pytestmark = pytest.mark.django_db


def test_invite_code_is_six_characters_without_look_alikes():
    codes = {invite_code_generate() for _ in range(500)}
    assert len(codes) > 490
    for code in codes:
        assert len(code) == 6
        assert set(code) <= set(INVITE_CODE_ALPHABET)
        assert not set(code) & set("0O1IL")


def test_invite_code_collision_is_retried(new_phone, monkeypatch):
    taken = member_get_or_create(phone=new_phone())[0].invite_code
    codes = iter([taken, taken, "FRESH2"])
    monkeypatch.setattr("profiles.services.invite_code_generate", lambda: next(codes))
    user, created = member_get_or_create(phone=new_phone())
    assert created and user.invite_code == "FRESH2"


def test_every_way_of_creating_a_member_retries_a_taken_invite_code(new_phone, monkeypatch):
    taken = member_get_or_create(phone=new_phone())[0].invite_code
    codes = iter([taken, "SUPER2"])
    monkeypatch.setattr("profiles.services.invite_code_generate", lambda: next(codes))
    admin = User.objects.create_superuser(new_phone(), "a-long-password-42")
    assert admin.invite_code == "SUPER2" and admin.is_superuser


def test_creating_a_member_with_a_taken_phone_is_refused(new_phone):
    from django.db import IntegrityError

    phone = new_phone()
    User.objects.create_user(phone)
    with pytest.raises(IntegrityError):
        User.objects.create_user(phone)


def test_activation_records_who_invited_and_when(make_member):
    owner, member = make_member(), make_member()
    invite_activate(user=member, code=owner.invite_code)
    member.refresh_from_db()
    assert member.referred_by == owner
    assert member.activated_at is not None


def test_invite_code_input_is_trimmed_and_case_insensitive(make_member):
    owner, member = make_member(), make_member()
    invite_activate(user=member, code=f"  {owner.invite_code.lower()}\n")
    member.refresh_from_db()
    assert member.referred_by == owner


def test_invite_code_typed_in_cyrillic_look_alikes_means_the_latin_code(make_member):
    owner, member = make_member(), make_member()
    owner.invite_code = "ABC234"  # all three letters have Cyrillic twins
    owner.save(update_fields=["invite_code"])
    invite_activate(user=member, code="авс234")  # Cyrillic а, в, с
    member.refresh_from_db()
    assert member.referred_by == owner


def test_unknown_code_is_invite_not_found(make_member):
    with pytest.raises(InviteNotFound) as error:
        invite_activate(user=make_member(), code="ZZZZZZ")
    assert error.value.code == "invite_not_found"


def test_own_code_is_invite_own_code(make_member):
    member = make_member()
    with pytest.raises(InviteOwnCode) as error:
        invite_activate(user=member, code=member.invite_code)
    assert error.value.code == "invite_own_code"
    member.refresh_from_db()
    assert member.referred_by is None


def test_second_activation_is_invite_already_activated(make_member):
    first, second, member = make_member(), make_member(), make_member()
    invite_activate(user=member, code=first.invite_code)
    with pytest.raises(InviteAlreadyActivated) as error:
        invite_activate(user=member, code=second.invite_code)
    assert error.value.code == "invite_already_activated"
    member.refresh_from_db()
    assert member.referred_by == first


def test_direct_cycle_is_refused(make_member):
    a, b = make_member(), make_member()
    invite_activate(user=b, code=a.invite_code)
    with pytest.raises(InviteCycle) as error:
        invite_activate(user=a, code=b.invite_code)
    assert error.value.code == "invite_cycle"


def test_cycle_down_a_chain_is_refused(make_member):
    a, b, c, d = make_member(), make_member(), make_member(), make_member()
    invite_activate(user=b, code=a.invite_code)
    invite_activate(user=c, code=b.invite_code)
    invite_activate(user=d, code=c.invite_code)
    for descendant in (b, c, d):
        with pytest.raises(InviteCycle):
            invite_activate(user=a, code=descendant.invite_code)
    a.refresh_from_db()
    assert a.referred_by is None


def test_inviter_of_my_inviter_is_not_a_cycle(make_member):
    a, b, c = make_member(), make_member(), make_member()
    invite_activate(user=b, code=a.invite_code)
    invite_activate(user=c, code=a.invite_code)
    invite_activate(user=a, code=make_member().invite_code)
    assert User.objects.get(pk=a.pk).referred_by is not None


def test_checking_a_code_writes_nothing(make_member):
    owner, member = make_member(), make_member()
    assert invite_target_get(user=member, code=owner.invite_code).owner_id == owner.pk
    member.refresh_from_db()
    assert member.referred_by is None


def test_database_forbids_inviting_yourself(make_member):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    member = make_member()
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=member.pk).update(referred_by=member, activated_at=timezone.now())


# --- The stored referral count (profiles.User.referrals_count) ---


def stored(member: User) -> tuple[int, int]:
    """(count, changes) as stored now, and the number of rows that count should match."""
    member.refresh_from_db()
    assert member.referrals_count == member.referrals.count()
    return member.referrals_count, member.referrals_changes


def test_activation_adds_one_to_the_inviters_count_and_version(make_member):
    owner = make_member()
    assert stored(owner) == (0, 0)
    invite_activate(user=make_member(), code=owner.invite_code)
    invite_activate(user=make_member(), code=owner.invite_code)
    assert stored(owner) == (2, 2)


def test_a_refused_activation_changes_no_count(make_member):
    owner = make_member()
    member = make_member()
    invite_activate(user=member, code=owner.invite_code)
    with pytest.raises(InviteAlreadyActivated):
        invite_activate(user=member, code=make_member().invite_code)
    assert stored(owner) == (1, 1)


def test_a_deleted_referral_leaves_the_inviters_count(make_member):
    owner = make_member()
    members = [make_member() for _ in range(3)]
    for member in members:
        invite_activate(user=member, code=owner.invite_code)
    members[0].delete()
    assert stored(owner) == (2, 4)


def test_deleting_members_in_bulk_as_the_admin_does_keeps_counts(make_member):
    owner, other = make_member(), make_member()
    for inviter in (owner, owner, other):
        invite_activate(user=make_member(), code=inviter.invite_code)
    User.objects.filter(referred_by__isnull=False).delete()
    assert stored(owner)[0] == 0 and stored(other)[0] == 0


def test_deleting_a_copy_loaded_before_the_activation_still_counts(make_member):
    owner = make_member()
    member = make_member()
    loaded_earlier = User.objects.get(pk=member.pk)  # as an admin page might hold it
    invite_activate(user=member, code=owner.invite_code)
    loaded_earlier.delete()
    assert stored(owner) == (0, 2)


def test_deleting_an_inviter_keeps_their_referrals(make_member):
    owner = make_member()
    member = make_member()
    invite_activate(user=member, code=owner.invite_code)
    owner.delete()
    member.refresh_from_db()
    assert member.referred_by is None and member.activated_at is not None


def test_saving_a_stale_copy_does_not_write_back_its_count(make_member):
    owner = make_member()
    stale = User.objects.get(pk=owner.pk)
    invite_activate(user=make_member(), code=owner.invite_code)
    stale.is_staff = True  # the admin's change form saves every field
    stale.save()
    assert stored(owner) == (1, 1)


def test_recount_repairs_a_drifted_count_and_reports_it(make_member):
    owner, fine = make_member(), make_member()
    invite_activate(user=make_member(), code=owner.invite_code)
    invite_activate(user=make_member(), code=fine.invite_code)
    User.objects.filter(pk=owner.pk).update(referrals_count=7)  # as raw SQL might
    assert referrals_recount() == [(owner.pk, 7, 1)]
    assert stored(owner)[0] == 1 and stored(fine) == (1, 1)
    assert referrals_recount() == []


@pytest.mark.django_db
def test_staff_cannot_suspend_their_own_account(make_member):
    operator = make_member()
    with pytest.raises(SuspendOwnAccount):
        member_suspend(member=operator, by=operator)
    operator.refresh_from_db()
    assert operator.is_active and operator.suspended_at is None


@pytest.mark.django_db(transaction=True)
def test_a_committed_activation_is_counted_for_the_metrics(make_member):
    from prometheus_client import REGISTRY

    before = REGISTRY.get_sample_value("referral_activations_total") or 0.0
    invite_activate(user=make_member(), code=make_member().invite_code)
    with pytest.raises(InviteNotFound):
        invite_activate(user=make_member(), code="NOSUCH")
    assert REGISTRY.get_sample_value("referral_activations_total") == before + 1


@pytest.mark.parametrize(
    "portable",
    [pytest.param(False, marks=pytest.mark.postgres), True],  # the one statement is PostgreSQL's
    ids=["one statement", "portable (SQLite)"],
)
def test_both_ways_of_recording_an_activation_agree(portable, make_member):
    from profiles.services import _activation_write

    inviter, member = make_member(), make_member()
    with transaction.atomic():
        done = _activation_write(
            user=member, code=inviter.invite_code, ip="203.0.113.9", portable=portable
        )
    inviter.refresh_from_db()
    member.refresh_from_db()
    assert (member.referred_by_id, member.activated_at, member.activation_ip) == (
        inviter.pk,
        done.activated_at,
        "203.0.113.9",
    )
    assert (inviter.referrals_count, inviter.referrals_changes) == (1, 1)
    # The member's page changed too (whom they joined, their own reward): its version moves.
    assert (member.referrals_count, member.referrals_changes) == (0, 1)
    assert (done.version, done.member_version) == (1, 1)
    assert done.target.owner_id == inviter.pk and set(done.locked) == {inviter.pk, member.pk}


@pytest.mark.parametrize(
    "portable",
    [pytest.param(False, marks=pytest.mark.postgres), True],
    ids=["one statement", "portable (SQLite)"],
)
def test_a_refused_activation_writes_nothing_before_it_raises(portable, make_member):
    """The one statement checks the locked rows itself: the rule raised after it
    must find nothing written, even by a caller that went on in the transaction."""
    from profiles.services import _activation_write

    inviter, member, other = make_member(), make_member(), make_member()
    invite_activate(user=member, code=other.invite_code)
    stale = User.objects.get(pk=member.pk)
    stale.activated_at = None  # an instance read before the row was activated
    with transaction.atomic():
        with pytest.raises(InviteAlreadyActivated):
            _activation_write(user=stale, code=inviter.invite_code, ip=None, portable=portable)
        assert User.objects.get(pk=inviter.pk).referrals_count == 0
        assert User.objects.get(pk=member.pk).referred_by_id == other.pk
