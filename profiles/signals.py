"""Stored state that follows deletions of members."""

from typing import Any

from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from profiles.models import User
from profiles.services import referral_leave, referrals_version_forget


@receiver(pre_delete, sender=User, dispatch_uid="profiles.referral_leave")
def member_deleted(sender: type[User], instance: User, **kwargs: Any) -> None:
    # pre_delete runs inside the deletion's transaction, also for queryset deletes
    # (the admin's "delete selected"), so the inviter's count moves with the row.
    referral_leave(member_pk=instance.pk)
    referrals_version_forget(member_pk=instance.pk)


@receiver(post_save, sender=User, dispatch_uid="profiles.member_saved")
def member_saved(sender: type[User], instance: User, **kwargs: Any) -> None:
    # A deactivated member's sessions stop working at once: their open tab's
    # unchanged poll must reach the sign-in check, not the shared cache's answer.
    if not instance.is_active:
        referrals_version_forget(member_pk=instance.pk)
