"""Holds, fraud, suspension, deletion, staff by hand, and the approval job."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fraud.models import FraudFlag
from fraud.services import flag_review
from profiles.models import User
from profiles.services import member_suspend
from rewards.errors import GrantFulfilled, GrantNotApproved, GrantOnHold, GrantVoided
from rewards.models import Grant
from rewards.services import grant_approve, grant_fulfil, grant_void, grants_approve_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_user(
        "+79990000009", "a-long-operator-password", is_staff=True, is_superuser=True
    )


def flag(inviter: User, subject: User | None = None, reason: str = "same_ip") -> FraudFlag:
    now = timezone.now()
    return FraudFlag.objects.create(
        reason=reason,
        inviter=inviter,
        subject=subject,
        subject_key=str(subject.pk) if subject else "",
        raised_at=now,
        updated_at=now,
    )


def states() -> dict[tuple[int, str], tuple[str, str]]:
    return {(g.member_id, g.kind): (g.state, g.reason) for g in Grant.objects.all()}


def test_a_grant_is_approved_when_its_hold_passed_and_its_activation_was_judged(
    program, activate, make_member, judged
):
    program(hold_days=14)
    inviter, friend = make_member(), make_member()
    activate(friend, inviter)
    judged()
    assert grants_approve_due() == 0  # near miss: still in its hold
    assert grants_approve_due(now=timezone.now() + timedelta(days=14, seconds=1)) == 2
    assert set(Grant.objects.values_list("state", flat=True)) == {"approved"}
    assert Grant.objects.filter(approved_at__isnull=True).count() == 0


def test_a_zero_day_hold_waits_for_the_fraud_judging(program, activate, make_member, judged):
    program(hold_days=0)
    inviter, friend = make_member(), make_member()
    activate(friend, inviter)
    # The job judges first, but a scan re-reads its last minute: this activation,
    # a moment old, is not certain to be judged yet.
    assert grants_approve_due() == 0
    assert set(Grant.objects.values_list("state", flat=True)) == {"pending"}


def test_the_job_judges_first_so_a_zero_day_hold_is_approved_on_its_first_run(
    program, activate, make_member
):
    program(hold_days=0)
    inviter, friend = make_member(), make_member()
    activate(friend, inviter)
    # Activated five minutes ago, a day after signing up (no rule trips).
    five_ago = timezone.now() - timedelta(minutes=5)
    Grant.objects.update(activated_at=five_ago, available_at=five_ago)
    User.objects.filter(pk=friend.pk).update(
        activated_at=five_ago, date_joined=five_ago - timedelta(days=1)
    )
    assert grants_approve_due() == 2


def test_running_the_job_twice_changes_nothing(program, activate, make_member, judged):
    program()
    activate(make_member(), make_member())
    judged()
    assert grants_approve_due() == 2
    before = list(Grant.objects.values_list("pk", "state", "approved_at").order_by("pk"))
    assert grants_approve_due() == 0
    assert list(Grant.objects.values_list("pk", "state", "approved_at").order_by("pk")) == before


def test_an_open_flag_on_a_referral_holds_its_two_grants_only(
    program, activate, make_member, judged
):
    program()
    inviter, flagged, fine = make_member(), make_member(), make_member()
    activate(flagged, inviter)
    activate(fine, inviter)
    held = flag(inviter, flagged)
    judged()
    assert grants_approve_due() == 2  # the fine referral's two grants
    assert Grant.objects.get(kind="friend", member_id=flagged.pk).state == "pending"
    assert Grant.objects.get(kind="referrer", referral_id=flagged.pk).state == "pending"
    staff = User.objects.create_user("+79990000008", "pw-pw-pw-pw-pw", is_staff=True)
    flag_review(flag=held, status="reviewed", by=staff)  # released
    assert grants_approve_due() == 2


def test_a_flag_on_the_inviter_as_a_whole_holds_all_their_grants(
    program, activate, make_member, judged
):
    program(milestones={1: 500})
    inviter, friend = make_member(), make_member()
    activate(friend, inviter)
    flag(inviter, None, reason="burst")
    judged()
    assert grants_approve_due() == 1  # only the friend's own reward
    assert states()[(friend.pk, "friend")] == ("approved", "")
    assert states()[(inviter.pk, "referrer")] == ("pending", "")
    assert states()[(inviter.pk, "milestone")] == ("pending", "")


def test_a_reviewed_flag_that_reopens_holds_again(program, activate, make_member, judged, staff):
    program(hold_days=1)
    inviter, friend = make_member(), make_member()
    activate(friend, inviter)
    raised = flag(inviter, friend)
    flag_review(flag=raised, status="reviewed", by=staff)
    FraudFlag.objects.filter(pk=raised.pk).update(status="open")  # new evidence reopened it
    judged()
    assert grants_approve_due(now=timezone.now() + timedelta(days=2)) == 0


def test_a_flag_marked_fraud_voids_exactly_what_it_touches(
    program, activate, make_member, judged, staff
):
    program(milestones={2: 500})
    inviter, bad, good = make_member(), make_member(), make_member()
    activate(bad, inviter)
    activate(good, inviter)
    other_inviter, other = make_member(), make_member()
    activate(other, other_inviter)
    flag_review(flag=flag(inviter, bad), status="fraud", by=staff)
    after = states()
    assert after[(bad.pk, "friend")] == ("voided", "fraud")
    voided = Grant.objects.filter(state="voided")
    assert set(voided.values_list("referral_id", flat=True)) == {bad.pk}
    assert voided.count() == 2  # the inviter's grant for `bad` and bad's own
    assert Grant.objects.get(kind="milestone").state == "pending"
    assert Grant.objects.get(voided_by=staff, referral_id=bad.pk, kind="referrer")


def test_a_fraud_verdict_on_the_inviter_voids_their_unfulfilled_grants_only(
    program, activate, make_member, judged, staff
):
    program()
    inviter, first, second = make_member(), make_member(), make_member()
    activate(first, inviter)
    judged()
    grants_approve_due()
    paid = Grant.objects.get(member_id=inviter.pk)
    grant_fulfil(grant=paid, by=staff)
    activate(second, inviter)
    flag_review(flag=flag(inviter, None, reason="burst"), status="fraud", by=staff)
    mine = dict(Grant.objects.filter(member_id=inviter.pk).values_list("referral_id", "state"))
    assert mine == {first.pk: "fulfilled", second.pk: "voided"}  # fulfilled is never voided
    assert Grant.objects.filter(kind="friend", state="voided").count() == 0


def test_suspension_voids_the_unfulfilled_grants_of_and_for_the_member(
    program, activate, make_member, staff
):
    program()
    inviter, friend, bystander = make_member(), make_member(), make_member()
    activate(friend, inviter)
    activate(bystander, inviter)
    member_suspend(member=friend, by=staff)
    assert states()[(friend.pk, "friend")] == ("voided", "suspended")
    assert Grant.objects.get(referral_id=friend.pk, kind="referrer").reason == "suspended"
    assert Grant.objects.get(referral_id=bystander.pk, kind="referrer").state == "pending"


def test_suspending_an_inviter_voids_their_grants(program, activate, make_member, staff):
    program()
    inviter = make_member()
    activate(make_member(), inviter)
    member_suspend(member=inviter, by=staff)
    assert [g.reason for g in Grant.objects.filter(kind="referrer")] == ["suspended"]


def test_a_suspended_inviters_code_lets_a_friend_join_but_earns_the_inviter_nothing(
    program, activate, make_member, staff, judged
):
    program(milestones={2: 500}, hold_days=0)
    inviter, first, second = make_member(), make_member(), make_member()
    activate(first, inviter)
    member_suspend(member=inviter, by=staff)
    activate(second, inviter)  # reaches the milestone, after the suspension
    judged()
    grants_approve_due()
    mine = Grant.objects.filter(member_id=inviter.pk).order_by("pk")
    assert list(mine.values_list("kind", "state", "reason")) == [
        ("referrer", "voided", "suspended"),
        ("referrer", "voided", "suspended"),
        ("milestone", "voided", "suspended"),
    ]
    # The friend did nothing wrong: their own reward stands.
    assert states()[(second.pk, "friend")] == ("approved", "")


def test_a_deleted_account_voids_the_unfulfilled_grants_for_it(
    program, activate, make_member, judged, staff
):
    program()
    inviter, leaving, paid = make_member(), make_member(), make_member()
    activate(paid, inviter)
    judged()
    grants_approve_due()
    grant_fulfil(grant=Grant.objects.get(referral_id=paid.pk, kind="referrer"), by=staff)
    activate(leaving, inviter)
    leaving.delete()
    paid.delete()
    grants = Grant.objects.filter(member_id=inviter.pk).order_by("pk")
    assert [(g.state, g.reason) for g in grants] == [
        ("fulfilled", ""),
        ("voided", "referral_left"),
    ]


def test_staff_approve_and_void_by_hand(program, activate, make_member, staff):
    program(hold_days=30)
    inviter, friend = make_member(), make_member()
    activate(friend, inviter)
    referrer = Grant.objects.get(kind="referrer")
    approved = grant_approve(grant=referrer, by=staff)
    assert (approved.state, approved.approved_by) == ("approved", staff)
    voided = grant_void(grant=Grant.objects.get(kind="friend"), by=staff)
    assert (voided.state, voided.reason, voided.voided_by) == ("voided", "staff", staff)
    with pytest.raises(GrantVoided):
        grant_approve(grant=voided, by=staff)
    with pytest.raises(GrantVoided):
        grant_fulfil(grant=voided, by=staff)


def test_fulfil_is_idempotent_and_never_voided_after(program, activate, make_member, staff):
    program()
    activate(make_member(), make_member())
    grant = Grant.objects.get(kind="referrer")
    with pytest.raises(GrantNotApproved):
        grant_fulfil(grant=grant, by=staff)
    grant_approve(grant=grant, by=staff)
    first = grant_fulfil(grant=grant, by=staff)
    second = grant_fulfil(grant=grant, by=staff)
    assert first.fulfilled_at == second.fulfilled_at and second.state == "fulfilled"
    with pytest.raises(GrantFulfilled):
        grant_void(grant=grant, by=staff)


def test_an_approved_grant_under_an_open_flag_is_not_fulfilled(
    program, activate, make_member, staff
):
    program()
    inviter, friend = make_member(), make_member()
    activate(friend, inviter)
    grant = grant_approve(grant=Grant.objects.get(kind="referrer"), by=staff)
    flag(inviter, friend)
    with pytest.raises(GrantOnHold):
        grant_fulfil(grant=grant, by=staff)
