"""Rewards hooks into the rooms below it: activations, suspensions and departures
in profiles, verdicts on flags in fraud. They import nothing of rewards."""

from typing import Any

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from fraud.models import FraudFlag
from fraud.signals import flag_reviewed, flags_opened
from profiles.extras import Extra, ProfileExtras
from profiles.models import User
from profiles.signals import member_suspended, profile_extras, referral_activated
from rewards import selectors, services
from rewards.models import Grant


@receiver(referral_activated, dispatch_uid="rewards.grants_for_activation")
def activation_granted(sender: Any, member: User, inviter: User, **kwargs: Any) -> None:
    services.grants_for_activation(member=member, inviter=inviter, in_activation=True)


@receiver(member_suspended, dispatch_uid="rewards.suspended")
def suspended(sender: Any, member: User, by: User | None = None, **kwargs: Any) -> None:
    services.grants_of_member_void(member=member, reason=Grant.VoidReason.SUSPENDED, by=by)


@receiver(pre_delete, sender=User, dispatch_uid="rewards.member_left")
def member_left(sender: Any, instance: User, **kwargs: Any) -> None:
    # Inside the deletion's transaction, before the grants lose their member or
    # referral (SET_NULL): the grants for them that are not yet fulfilled go.
    services.grants_of_member_void(member=instance, reason=Grant.VoidReason.REFERRAL_LEFT)


@receiver(flag_reviewed, dispatch_uid="rewards.flag_reviewed")
def flag_verdict(sender: Any, flag: FraudFlag, status: str, by: User, **kwargs: Any) -> None:
    if status == FraudFlag.Status.FRAUD:
        services.grants_touched_by_flag_void(
            inviter_id=flag.inviter_id, subject_id=flag.subject_id, by=by
        )
    else:
        # Released: the next approval run approves what is due; the rows say so now.
        services.versions_bump_after_commit(member_ids=[flag.inviter_id, flag.subject_id])


@receiver(flags_opened, dispatch_uid="rewards.flags_opened")
def flags_opened_hold(sender: Any, touched: set[tuple[int, int | None]], **kwargs: Any) -> None:
    # Held while open: the members' rows show it on their next poll.
    services.versions_bump_after_commit(member_ids={pk for pair in touched for pk in pair})


@receiver(profile_extras, dispatch_uid="rewards.profile_extras")
def profile_panel(sender: Any, member: User, phones: list[str], **kwargs: Any) -> ProfileExtras:
    """The rewards panel on the referrals list and each row's reward: two queries at most
    (the program with the member's totals, then the rows' grants); nothing without a
    program or a grant."""
    summary = selectors.rewards_summary(member=member)
    if summary is None:
        return ProfileExtras()
    notes = selectors.referral_rewards(member=member, phones=phones)
    return ProfileExtras(
        panels=[Extra("rewards/panel.html#rewards-panel", {"rewards": summary})],
        notes={
            phone: Extra(
                "rewards/panel.html#referral-reward",
                {"reward": note},
                attrs={"data-reward-state": note.state},
            )
            for phone, note in notes.items()
        },
    )
