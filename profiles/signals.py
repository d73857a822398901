"""Stored state that follows deletions of members."""

from typing import Any

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from profiles.models import User
from profiles.services import referral_leave


@receiver(pre_delete, sender=User, dispatch_uid="profiles.referral_leave")
def member_deleted(sender: type[User], instance: User, **kwargs: Any) -> None:
    # pre_delete runs inside the deletion's transaction, also for queryset deletes
    # (the admin's "delete selected"), so the inviter's count moves with the row.
    referral_leave(member_pk=instance.pk)
