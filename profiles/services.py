"""Writes: members, their invite codes, and activation of a friend's code."""

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from core.db import advisory_lock
from profiles.errors import SuspendNotAllowed, SuspendOwnAccount, SuspendStaffAccount
from profiles.models import INVITE_CODE_ALPHABET, INVITE_CODE_LENGTH, User
from profiles.selectors import VERSION_CACHE_SECONDS, invite_owner_get, referrals_version_key

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
def member_get_or_create(*, phone: str, ip: str = "") -> tuple[User, bool]:
    """The member with this phone, created with a fresh invite code on first sign-in.

    Parallel first sign-ins of one phone meet at the unique constraint: the
    loser finds the winner's row. A new member's sign-in IP is kept for fraud review.
    """
    user = User.objects.filter(phone=phone).first()
    if user is not None:
        return user, False
    try:
        with transaction.atomic():
            return User.objects.create_user(phone, signup_ip=ip or None), True
    except IntegrityError:
        return User.objects.get(phone=phone), False


# Activations, departures of referrals and recounts take this lock in turn.
ACTIVATION_LOCK = "profiles:invite_activate"


@transaction.atomic
def invite_activate(*, user: User, code: str, ip: str = "") -> User:
    """Record that `user` joined with `code`'s owner. Once per member, never a cycle.

    Activations take one shared lock: the cycle check reads other members'
    chains, which a parallel activation could change under it (A enters B's
    code while B enters A's).
    """
    advisory_lock(ACTIVATION_LOCK)
    member = User.objects.select_for_update().get(pk=user.pk)
    owner = invite_owner_get(user=member, code=code)
    member.referred_by = owner
    member.activated_at = timezone.now()
    member.activation_ip = ip or None
    member.save(update_fields=["referred_by", "activated_at", "activation_ip"])
    # In the same transaction: the inviter's stored count never disagrees with the rows.
    User.objects.filter(pk=owner.pk).update(
        referrals_count=F("referrals_count") + 1, referrals_changes=F("referrals_changes") + 1
    )
    _referrals_version_publish(inviter_pk=owner.pk)
    logger.info("invite activated member=%s inviter=%s", member.pk, owner.pk)
    return member


def referral_leave(*, member_pk: int) -> None:
    """A member is being deleted: their inviter has one referral fewer.

    Runs inside the deletion's transaction (a pre_delete receiver, so every way of
    deleting a member counts, the admin's included). The member's inviter is read
    again under the activation lock: the instance being deleted may have been
    loaded before the member entered a code.
    """
    advisory_lock(ACTIVATION_LOCK)
    inviter_pk = User.objects.filter(pk=member_pk).values_list("referred_by_id", flat=True).first()
    if inviter_pk is not None:
        User.objects.filter(pk=inviter_pk).update(
            referrals_count=F("referrals_count") - 1, referrals_changes=F("referrals_changes") + 1
        )
        _referrals_version_publish(inviter_pk=inviter_pk)


@transaction.atomic
def referrals_recount() -> list[tuple[int, int, int]]:
    """Set every stored referral count to the number of rows; returns (member, was, is).

    Under the activation lock, so no activation or departure moves a count while
    it is recomputed. A drift found here is a bug (or a write that bypassed the
    services, such as raw SQL); the command that calls this reports it.
    """
    advisory_lock(ACTIVATION_LOCK)
    table = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT u.id, u.referrals_count, COALESCE(r.total, 0)
            FROM {table} u
            LEFT JOIN (
                SELECT referred_by_id, COUNT(*) AS total FROM {table}
                WHERE referred_by_id IS NOT NULL GROUP BY referred_by_id
            ) r ON r.referred_by_id = u.id
            WHERE u.referrals_count <> COALESCE(r.total, 0)
            ORDER BY u.id
            """  # noqa: S608 - the table name is ours
        )
        drift = [(int(pk), int(was), int(real)) for pk, was, real in cursor.fetchall()]
    for pk, _was, real in drift:
        User.objects.filter(pk=pk).update(
            referrals_count=real, referrals_changes=F("referrals_changes") + 1
        )
        _referrals_version_publish(inviter_pk=pk)
    if drift:
        logger.warning("referral counts repaired: %s members had drifted", len(drift))
    return drift


def _referrals_version_publish(*, inviter_pk: int) -> None:
    """Tell the shared cache the inviter's new list version (the referrals poll reads it).

    Called under the activation lock, so versions reach the cache in order.
    """
    if not settings.REDIS_URL:
        return
    version = User.objects.filter(pk=inviter_pk).values_list("referrals_changes", flat=True).first()
    if version is not None:
        cache.set(referrals_version_key(inviter_pk), str(version), timeout=VERSION_CACHE_SECONDS)


def referrals_version_forget(*, member_pk: int) -> None:
    """Stop answering this member's referrals poll from the shared cache.

    For a member deactivated or deleted: their next poll takes the full path,
    whose sign-in check refuses them. (A deactivation must go through `save()`,
    as the admin's does, or call this itself.)
    """
    if settings.REDIS_URL:
        transaction.on_commit(lambda: cache.delete(referrals_version_key(member_pk)))


@transaction.atomic
def member_suspend(*, member: User, by: User) -> User:
    """Shut a member out at once: no sign-in, no session, no refresh token.

    Inactive members fail ModelBackend.get_user (their sessions stop on the next
    request) and simplejwt's CHECK_USER_IS_ACTIVE (access tokens); their refresh
    tokens are blacklisted here so that none can be exchanged again. Staff cannot
    suspend themselves (they would lock the console's last operator out).

    Suspending is a change to a member, so it needs `profiles.change_user`; a
    staff or superuser account can be suspended only by a superuser, or any
    operator could lock the admins out of /admin/.

    Every suspension stamps `suspended_at` afresh: it is part of the session
    hash (User.get_session_auth_hash), so every session opened before it stays
    dead even after the account is made active again.
    """
    if member.pk == by.pk:
        raise SuspendOwnAccount
    if not by.has_perm("profiles.change_user"):
        raise SuspendNotAllowed
    from rest_framework_simplejwt.token_blacklist.models import (
        BlacklistedToken,
        OutstandingToken,
    )

    member = User.objects.select_for_update().get(pk=member.pk)
    # Judged on the row as locked, not on the caller's possibly stale instance.
    if (member.is_staff or member.is_superuser) and not by.is_superuser:
        raise SuspendStaffAccount
    member.suspended_at = timezone.now()
    member.is_active = False
    member.save(update_fields=["is_active", "suspended_at"])
    outstanding = OutstandingToken.objects.filter(user=member, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    logger.warning("member suspended member=%s by=%s", member.pk, by.pk)
    return member


def member_ips_purge(*, older_than: timedelta, batch_size: int = 5000) -> int:
    """Forget sign-in and activation IPs recorded longer ago than `older_than`. Idempotent.

    Batched by primary key so that a large purge never holds long row locks.
    """
    cutoff = timezone.now() - older_than
    cleared = 0
    for field, when in (("signup_ip", "date_joined"), ("activation_ip", "activated_at")):
        stale = User.objects.filter(**{f"{field}__isnull": False, f"{when}__lt": cutoff})
        while True:
            ids = list(stale.values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            cleared += User.objects.filter(pk__in=ids).update(**{field: None})
    return cleared
