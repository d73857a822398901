"""Stored state that follows deletions of members (and the event that reports them),
and the hooks rooms above profiles (rewards) connect to without profiles importing them."""

from typing import Any

from django.db.models.signals import post_save, pre_delete
from django.dispatch import Signal, receiver

from profiles.models import User

# Sent by invite_activate inside its transaction, after the inviter's count was
# updated (the member's and the inviter's rows are locked), with `member` (who
# entered the code) and `inviter`. Both members' list versions have moved with
# the activation, so a receiver changing what their pages show need not bump them;
# events the receivers publish are written with the activation's (events_together).
referral_activated = Signal()
# Sent by member_suspend inside its transaction, with `member` and `by`.
member_suspended = Signal()
# Sent while a member's profile or referrals list is rendered, with `member` and
# `phones` (the E.164 phones of the referrals shown); each receiver answers a
# profiles.extras.ProfileExtras (a panel on the list, a note per referral row).
profile_extras = Signal()


@receiver(pre_delete, sender=User, dispatch_uid="profiles.referral_leave")
def member_deleted(sender: type[User], instance: User, **kwargs: Any) -> None:
    from profiles.services import (
        member_deletion_publish,
        member_deletion_record,
        referral_leave,
        referrals_version_forget,
        throttle_records_forget,
    )

    # pre_delete runs inside the deletion's transaction, also for queryset deletes
    # (the admin's "delete selected"), so the inviter's count moves with the row.
    # Counted before the departure moves anything: what the member had, not who they were.
    member_deletion_record(member=instance)
    referral_leave(member_pk=instance.pk)
    referrals_version_forget(member_pk=instance.pk)
    member_deletion_publish(member=instance)
    throttle_records_forget(member=instance)


@receiver(post_save, sender=User, dispatch_uid="profiles.member_saved")
def member_saved(sender: type[User], instance: User, **kwargs: Any) -> None:
    from profiles.services import referrals_version_forget

    # A deactivated member's sessions stop working at once: their open tab's
    # unchanged poll must reach the sign-in check, not the shared cache's answer.
    if not instance.is_active:
        referrals_version_forget(member_pk=instance.pk)
