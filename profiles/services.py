"""Writes: members, their invite codes, and activation of a friend's code."""

import logging
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from profiles.models import INVITE_CODE_ALPHABET, INVITE_CODE_LENGTH, User
from profiles.selectors import invite_owner_get
from site_config.db import advisory_lock

logger = logging.getLogger(__name__)

# 31**6 ≈ 887 million codes: a collision is rare, several in a row is a bug.
INVITE_CODE_TRIES = 8


def invite_code_generate() -> str:
    return "".join(secrets.choice(INVITE_CODE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


def member_insert(*, user: User) -> User:
    """Save a new member with a fresh invite code, drawing again on a collision.

    Every way a member is created (first sign-in, createsuperuser, the admin)
    comes through here. Any other conflict, such as a taken phone, is re-raised.
    """
    for _ in range(INVITE_CODE_TRIES):
        user.invite_code = invite_code_generate()
        try:
            with transaction.atomic():
                user.save(force_insert=True)
        except IntegrityError:
            if not User.objects.filter(invite_code=user.invite_code).exists():
                raise
        else:
            return user
    raise RuntimeError("Could not find a free invite code; the code space may be exhausted.")


@transaction.atomic
def user_get_or_create(*, phone: str) -> tuple[User, bool]:
    """The member with this phone, created with a fresh invite code on first sign-in.

    Parallel first sign-ins of one phone meet at the unique constraint: the
    loser finds the winner's row.
    """
    user = User.objects.filter(phone=phone).first()
    if user is not None:
        return user, False
    try:
        with transaction.atomic():
            return User.objects.create_user(phone), True
    except IntegrityError:
        return User.objects.get(phone=phone), False


@transaction.atomic
def invite_activate(*, user: User, code: str) -> User:
    """Record that `user` joined with `code`'s owner. Once per member, never a cycle.

    Activations take one shared lock: the cycle check reads other members'
    chains, which a parallel activation could change under it (A enters B's
    code while B enters A's).
    """
    advisory_lock("profiles:invite_activate")
    member = User.objects.select_for_update().get(pk=user.pk)
    owner = invite_owner_get(user=member, code=code)
    member.referred_by = owner
    member.activated_at = timezone.now()
    member.save(update_fields=["referred_by", "activated_at"])
    logger.info("invite activated member=%s inviter=%s", member.pk, owner.pk)
    return member
