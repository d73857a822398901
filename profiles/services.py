"""Writes: members, their invite codes, and activation of a friend's code."""

import functools
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from core import metrics
from core.db import advisory_lock, prepared_cursor
from core.phones import phone_e164
from events.payloads import e164, iso_utc
from events.services import event_publish, events_together
from profiles import signals
from profiles.errors import (
    DeleteNotConfirmed,
    DeleteStaffAccount,
    InviteAlreadyActivated,
    SuspendNotAllowed,
    SuspendOwnAccount,
    SuspendStaffAccount,
)
from profiles.models import INVITE_CODE_ALPHABET, INVITE_CODE_LENGTH, MemberDeletion, User
from profiles.selectors import (
    VERSION_CACHE_SECONDS,
    InviteTarget,
    invite_chain_params,
    invite_chain_sql,
    invite_target_judge,
    referrals_session_hash_key,
    referrals_version_key,
)

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
                event_publish(
                    type="member.created",
                    data={
                        "member_id": user.pk,
                        "phone": e164(user.phone),
                        "invite_code": user.invite_code,
                        "joined_at": iso_utc(user.date_joined),
                    },
                )
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


# The one lock every activation took before activations locked their own trees.
# Only the activation benchmark takes it now (bench/activations.py sets
# ACTIVATION_GLOBAL_LOCK), to print the old ceiling beside the new one.
ACTIVATION_LOCK = "profiles:invite_activate"
ACTIVATION_GLOBAL_LOCK = False

# How often an activation or a departure starts again when the tree it read moved
# before its locks were granted. Each retry means another transaction committed a
# change to that very tree; a member can wait behind a few, not behind this many.
TREE_MOVED_TRIES = 50


class _TreeMoved(Exception):
    """What was read before the locks changed before they were granted: read again."""


def invite_activate(*, user: User, code: str, ip: str = "") -> User:
    """Record that `user` joined with `code`'s owner. Once per member, never a cycle.

    Why the locks taken are enough. Each member enters one code, so every member
    has at most one inviter: the referral graph is a forest, and the member
    activating (M) has no inviter yet, so M is the root of a tree of its own.
    Joining the owner (O) adds the edge M -> O, which closes a cycle exactly when
    M stands in O's chain of inviters, i.e. when M is the root (R) of O's tree.
    One transaction locks the rows of M, R and O (in id order, in one statement,
    so activations never deadlock each other) and checks again under the locks
    (on PostgreSQL that statement also writes, only if the checks pass):

    - M is not activated: every activation of M locks M, so only one passes;
    - R still has no inviter: O's chain can grow only at its top, when R itself
      activates, and that activation needs R's lock, held here until commit.
      Other changes to the chain (a member on it deleted) only shorten it, so
      M, absent from the chain read before the locks, stays absent;
    - O still exists, and its row lock keeps its referral count exact (the count
      is an SQL increment; a departure or recount of O needs the same lock) and
      keeps O locked for the `referral_activated` receivers (rewards' caps).

    If R gained an inviter or O went in between, the transaction is rolled back
    (its locks released) and starts again from a fresh read. Two activations
    whose lock sets are disjoint touch different trees: a cycle through both
    would need one's R to be the other's M, which both would lock. So activations
    in different trees run in parallel, and those in one tree take turns.
    """
    for _ in range(TREE_MOVED_TRIES):
        try:
            with transaction.atomic():
                member = _invite_activate_once(user=user, code=code, ip=ip)
                transaction.on_commit(metrics.activations.inc)
                return member
        except _TreeMoved:
            continue
    raise RuntimeError("The referral tree kept changing under an activation; try again.")


def _invite_activate_once(*, user: User, code: str, ip: str) -> User:
    if user.activated_at is not None:
        raise InviteAlreadyActivated
    if ACTIVATION_GLOBAL_LOCK:
        advisory_lock(ACTIVATION_LOCK)
    done = _activation_write(
        user=user, code=code, ip=ip or None, portable=connection.vendor != "postgresql"
    )
    target, locked, now = done.target, done.locked, done.activated_at
    _referrals_versions_publish(
        versions={target.owner_id: done.version, user.pk: done.member_version}
    )
    user.referred_by_id, user.activated_at, user.activation_ip = target.owner_id, now, ip or None
    user.referrals_changes = done.member_version
    # The event and whatever the receivers publish (rewards' grants) are written
    # together when the block ends: one statement for all, still in the transaction.
    with events_together():
        event_publish(
            type="referral.activated",
            data={
                "member_id": user.pk,
                "phone": e164(locked[user.pk].phone),
                "inviter_id": target.owner_id,
                "inviter_phone": e164(locked[target.owner_id].phone),
                "invite_code": locked[target.owner_id].invite_code,
                "activated_at": iso_utc(now),
            },
        )
        # Still in the transaction, the member's and the owner's rows locked above:
        # receivers (rewards) count and grant exactly, even under parallel activations.
        # The inviter goes as a deferred instance (its other fields load when read),
        # with whether it may still earn: a suspended member's code still lets the
        # friend join, but earns its owner nothing (rewards void it `suspended`).
        owner = locked[target.owner_id]
        inviter = User.from_db(None, ["id", "is_active"], [target.owner_id, owner.is_active])
        signals.referral_activated.send(sender=User, member=user, inviter=inviter)
    # Debug, not info: the outbox's `referral.activated` is the record of it, and a
    # line per activation cost ~0.03 ms of the hot path (formatted and written).
    logger.debug("invite activated member=%s inviter=%s", user.pk, target.owner_id)
    return user


class _Locked(NamedTuple):
    """A row `invite_activate` holds locked, as it is now."""

    referred_by_id: int | None
    activated_at: datetime | None
    phone: str
    invite_code: str
    is_active: bool


class _Activation(NamedTuple):
    """An activation as written: whose code, the rows locked, and what moved."""

    target: InviteTarget
    locked: dict[int, _Locked]
    activated_at: datetime
    # The inviter's and the member's new list versions (the referrals poll's).
    version: int
    member_version: int


# The locked rows' columns, then the target's: what `_activation_judge` reads.
_LOCKED_COLUMNS = """u.id, u.referred_by_id, u.activated_at, u.phone, u.invite_code, u.is_active,
               t.owner_id, t.root_id, t.through_member"""


def _locked_select(table: str, lock: str) -> str:
    """The rows of the member, the root and the owner after the owner's chain (`target`),
    in id order, with `lock` (FOR UPDATE OF u where the database has row locks)."""
    return f"""
        SELECT {_LOCKED_COLUMNS}
        FROM {table} u, target t
        WHERE u.id IN (%(member)s, t.owner_id, t.root_id)
        ORDER BY u.id{lock}
    """  # noqa: S608 - the table name is ours, values are parameters


@functools.cache
def _activation_lock_sql(table: str, lock: str) -> str:
    """The portable lock statement: the owner's chain, then the rows of the member,
    the root and the owner (locked, where the database has row locks)."""
    return invite_chain_sql(table) + _locked_select(table, lock)


@functools.cache
def _activation_sql(table: str) -> str:
    """PostgreSQL's activation: read, lock, check and write in one statement.

    `locked` is the portable lock statement's select; `go` is one row exactly when
    `_activation_judge` will pass on what `locked` returns (the member unactivated
    and outside the owner's chain, the owner and the root locked, the root still
    without an inviter), and only then do the two updates write. A row locked in
    `locked` and then updated (its newer version, if a transaction we waited for
    changed it) gets its new values from the row as locked: the counts stay
    increments. `activated_at` is the database's clock once the locks are granted,
    as the portable path takes its time after them: so each inviter's referrals
    are timed in the order they committed, which the live list's polls rely on.
    """
    rest = f""",
        locked AS ({_locked_select(table, " FOR UPDATE OF u")}),
        go AS (
            SELECT m.owner_id FROM locked m, locked o, locked r
            WHERE m.id = %(member)s AND m.activated_at IS NULL AND m.through_member = 0
              AND o.id = m.owner_id AND r.id = m.root_id AND r.referred_by_id IS NULL
        ),
        member AS (
            UPDATE {table} SET referred_by_id = go.owner_id, activated_at = clock_timestamp(),
                               activation_ip = %(ip)s,
                               referrals_changes = {table}.referrals_changes + 1
            FROM go WHERE {table}.id = %(member)s
            RETURNING {table}.referrals_changes, {table}.activated_at
        ),
        owner AS (
            UPDATE {table} SET referrals_count = {table}.referrals_count + 1,
                               referrals_changes = {table}.referrals_changes + 1
            FROM go WHERE {table}.id = go.owner_id
            RETURNING {table}.referrals_changes
        )
        SELECT l.*, o.referrals_changes, m.referrals_changes, m.activated_at
        FROM locked l LEFT JOIN owner o ON true LEFT JOIN member m ON true
    """  # noqa: S608 - the table name is ours, values are parameters
    return invite_chain_sql(table) + rest


def _activation_write(*, user: User, code: str, ip: str | None, portable: bool) -> _Activation:
    """Read the owner's chain, lock the member, the root and the owner, check, and record.

    The chain is read in the statement's snapshot; the rows are then locked in id
    order (PostgreSQL sorts before it locks) and returned as they are once the
    locks are granted, newer than that snapshot if a transaction we waited for
    changed them. So the checks see the locked rows, as the docstring of
    `invite_activate` needs. Both lists' versions move: the inviter's list has a
    new row, and the member's page changes too (whom they joined, and what
    receivers such as rewards add for them in this transaction, which so need not
    bump it again). The count is an increment: it never disagrees with the rows.

    On PostgreSQL one statement does it all (`_activation_sql`; activations are
    benchmarked: bench/activations.py). Elsewhere (SQLite, `make run`: no
    data-modifying CTE, one writer at a time and so no row locks) the lock
    statement, then three ORM statements in the same transaction.
    """
    table = connection.ops.quote_name(User._meta.db_table)
    params = invite_chain_params(user=user, code=code)
    if portable:
        lock = " FOR UPDATE OF u" if connection.features.has_select_for_update_of else ""
        sql = _activation_lock_sql(table, lock)
    else:
        sql, params["ip"] = _activation_sql(table), ip
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    target, locked = _activation_judge(user=user, rows=rows)
    if portable:
        now = timezone.now()
        version, member_version = _activation_record_portable(
            member_pk=user.pk, owner_pk=target.owner_id, now=now, ip=ip
        )
        return _Activation(target, locked, now, version, member_version)
    version, member_version, now = rows[0][9:12]
    if version is None or member_version is None:
        # `go` and `_activation_judge` check the same rows alike: a bug if they disagree.
        raise RuntimeError("The activation statement wrote nothing where the checks passed.")
    return _Activation(target, locked, now, version, member_version)


def _activation_judge(*, user: User, rows: list[tuple]) -> tuple[InviteTarget, dict[int, _Locked]]:
    """The rules (invite_target_judge) on the rows as locked; `_TreeMoved` if the
    owner or the root changed between the read of the chain and the locks."""
    locked = {row[0]: _Locked(*row[1:6]) for row in rows}
    if user.pk not in locked:
        raise User.DoesNotExist("The member is gone.")
    owner_id, root_id, through_member = rows[0][6:9]
    target = invite_target_judge(
        user=user,
        activated_at=locked[user.pk].activated_at,
        owner_id=owner_id,
        root_id=root_id,
        through_member=through_member,
    )
    root = locked.get(target.root_id)
    if target.owner_id not in locked or root is None or root.referred_by_id is not None:
        raise _TreeMoved
    return target, locked


def _activation_record_portable(
    *, member_pk: int, owner_pk: int, now: datetime, ip: str | None
) -> tuple[int, int]:
    """The activation's writes in ORM statements; the inviter's and the member's new
    list versions."""
    User.objects.filter(pk=member_pk).update(
        referred_by_id=owner_pk,
        activated_at=now,
        activation_ip=ip,
        referrals_changes=F("referrals_changes") + 1,
    )
    User.objects.filter(pk=owner_pk).update(
        referrals_count=F("referrals_count") + 1, referrals_changes=F("referrals_changes") + 1
    )
    versions = dict(
        User.objects.filter(pk__in=[owner_pk, member_pk]).values_list("pk", "referrals_changes")
    )
    return versions[owner_pk], versions[member_pk]


def referral_leave(*, member_pk: int) -> None:
    """A member is being deleted: their inviter has one referral fewer.

    Runs inside the deletion's transaction (a pre_delete receiver, so every way of
    deleting a member counts, the admin's included). The member's inviter is read
    again with the member's row and the inviter's locked (in id order, as
    activations lock theirs): the instance being deleted may have been loaded
    before the member entered a code, and an activation of this member holds the
    member's row until it commits.

    The member's own referrals are locked in the same statement: the deletion then
    sets their inviter to NULL (SET_NULL), and an activation into one of them (O,
    below the member X, under X's inviter R) locks O and R in id order. Locked
    only by that later UPDATE, O came after R here, and the two transactions each
    waited for the other's row (a deadlock, answered 503). One statement in id
    order for all of them, as an activation's, and neither can wait on the other
    while holding a row the other needs.
    """
    for _ in range(TREE_MOVED_TRIES):
        try:
            with transaction.atomic():
                _referral_leave_once(member_pk=member_pk)
                return
        except _TreeMoved:
            continue
    raise RuntimeError("The member's inviter kept changing under a deletion; try again.")


def _referral_leave_once(*, member_pk: int) -> None:
    inviter_pk = User.objects.filter(pk=member_pk).values_list("referred_by_id", flat=True).first()
    locked = dict(
        User.objects.select_for_update()
        .filter(Q(pk__in={member_pk, inviter_pk} - {None}) | Q(referred_by_id=member_pk))
        .order_by("pk")
        .values_list("pk", "referred_by_id")
    )
    if member_pk not in locked:
        return
    if locked[member_pk] != inviter_pk:
        raise _TreeMoved
    if inviter_pk is not None and inviter_pk in locked:
        User.objects.filter(pk=inviter_pk).update(
            referrals_count=F("referrals_count") - 1, referrals_changes=F("referrals_changes") + 1
        )
        _referrals_version_publish(inviter_pk=inviter_pk)


@transaction.atomic
def referrals_recount() -> list[tuple[int, int, int]]:
    """Set every stored referral count to the number of rows; returns (member, was, is).

    Needs no lock to find a drift: activations and departures move a count and
    its rows in one transaction, so one statement (one snapshot) sees them agree.
    A member found drifted is then locked (as activations into them and
    departures from them lock them) and counted again before the repair. A drift
    found here is a bug (or a write that bypassed the services, such as raw SQL);
    the command that calls this reports it.
    """
    table = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT u.id FROM {table} u
            LEFT JOIN (
                SELECT referred_by_id, COUNT(*) AS total FROM {table}
                WHERE referred_by_id IS NOT NULL GROUP BY referred_by_id
            ) r ON r.referred_by_id = u.id
            WHERE u.referrals_count <> COALESCE(r.total, 0)
            ORDER BY u.id
            """  # noqa: S608 - the table name is ours
        )
        suspects = [int(pk) for (pk,) in cursor.fetchall()]
    drift = []
    locked = User.objects.select_for_update().filter(pk__in=suspects).order_by("pk")
    for pk, was in locked.values_list("pk", "referrals_count"):
        real = User.objects.filter(referred_by_id=pk).count()
        if real != was:
            drift.append((pk, was, real))
    for pk, _was, real in drift:
        User.objects.filter(pk=pk).update(
            referrals_count=real, referrals_changes=F("referrals_changes") + 1
        )
        _referrals_version_publish(inviter_pk=pk)
    if drift:
        logger.warning("referral counts repaired: %s members had drifted", len(drift))
    return drift


def _referrals_version_publish(*, inviter_pk: int, version: int | None = None) -> None:
    """Tell the shared cache the inviter's new list version (the referrals poll reads it).

    Called with the inviter's row locked, so each inviter's versions reach the cache in order.
    """
    if not settings.REDIS_URL:
        return
    if version is None:
        version = (
            User.objects.filter(pk=inviter_pk).values_list("referrals_changes", flat=True).first()
        )
    if version is not None:
        cache.set(referrals_version_key(inviter_pk), str(version), timeout=VERSION_CACHE_SECONDS)


def _referrals_versions_publish(*, versions: dict[int, int]) -> None:
    """`_referrals_version_publish` for several members whose versions are known: one
    round trip to the shared cache. Called with those members' rows locked."""
    if settings.REDIS_URL:
        cache.set_many(
            {referrals_version_key(pk): str(version) for pk, version in versions.items()},
            timeout=VERSION_CACHE_SECONDS,
        )


def referrals_changed(*, member_pks: Iterable[int | None]) -> None:
    """Something shown with these members' referral lists changed (a reward's state):
    their open pages get the new list on the next poll, as for a new referral.

    Bumps each row's version in the caller's transaction; with the rows already
    locked (an activation) that is free of deadlocks. Callers holding other locks
    run it after their commit (transaction.on_commit).
    """
    pks = sorted({pk for pk in member_pks if pk is not None})
    if not pks:
        return
    User.objects.filter(pk__in=pks).update(referrals_changes=F("referrals_changes") + 1)
    for pk in pks:
        _referrals_version_publish(inviter_pk=pk)


def member_deletion_publish(*, member: User) -> None:
    """`member.deleted`, inside the deletion's transaction (the pre_delete receiver)."""
    event_publish(
        type="member.deleted",
        data={
            "member_id": member.pk,
            "phone": e164(member.phone),
            "deleted_at": iso_utc(timezone.now()),
        },
    )


def referrals_version_forget(*, member_pk: int) -> None:
    """Stop answering this member's referrals poll from the shared cache.

    For a member deactivated or deleted: their next poll takes the full path,
    whose sign-in check refuses them. (A deactivation must go through `save()`,
    as the admin's does, or call this itself.)
    """
    if settings.REDIS_URL:
        keys = [referrals_version_key(member_pk), referrals_session_hash_key(member_pk)]
        transaction.on_commit(lambda: cache.delete_many(keys))


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
    event_publish(
        type="member.suspended",
        data={
            "member_id": member.pk,
            "phone": e164(member.phone),
            "suspended_at": iso_utc(member.suspended_at),
            "by_id": by.pk,
        },
    )
    signals.member_suspended.send(sender=User, member=member, by=by)
    logger.warning("member suspended member=%s by=%s", member.pk, by.pk)
    return member


def refresh_tokens_blacklist(*, member: User) -> int:
    """Blacklist every refresh token of `member` not blacklisted yet; returns how many."""
    from rest_framework_simplejwt.token_blacklist.models import (
        BlacklistedToken,
        OutstandingToken,
    )

    outstanding = OutstandingToken.objects.filter(user=member, blacklistedtoken__isnull=True)
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(created)


@transaction.atomic
def member_delete(*, member: User, confirm: str, via: str) -> MemberDeletion | None:
    """Delete the member's account and what is kept about them, at their own request.

    `confirm` must be the member's own phone (any spelling of it): a misclick
    cannot type it, and the web form's CSRF check stops a forged request. In one
    transaction: every refresh token is blacklisted (the rows keep no phone),
    the member's row goes, with it their sessions' user (a session whose member
    is gone is signed out), the IPs on that row, and through pre_delete
    receivers the inviter's count (`referral_leave`), the sign-in codes and
    their limits (auth_flow) and the password-throttle records. The referrals'
    own accounts stay: they no longer name an inviter. The deletion is recorded
    as counts only (`MemberDeletion`).
    """
    if phone_e164(confirm) != str(member.phone):
        raise DeleteNotConfirmed
    # No row lock here: the departure (`referral_leave`, a pre_delete receiver) locks the
    # member's row with the inviter's, in id order as activations do, so none deadlocks.
    # Parallel deletions of one account (a double tap, a client's retry) take turns on
    # a lock of their own, which nothing else takes: the first deletes, recorded and
    # published once; the others find the account gone and are done (None).
    advisory_lock(f"member:delete:{member.pk}")
    member = User.objects.filter(pk=member.pk).first()
    if member is None:
        return None
    if member.is_staff or member.is_superuser:
        raise DeleteStaffAccount
    refresh_tokens_blacklist(member=member)
    member._deletion_via = via  # type: ignore[attr-defined] - read by the pre_delete receiver
    member_pk = member.pk
    member.delete()
    record = MemberDeletion.objects.get(pk=member._deletion_record)  # type: ignore[attr-defined]
    logger.warning("member deleted their account via=%s (member=%s)", via, member_pk)
    return record


def member_deletion_record(*, member: User) -> MemberDeletion:
    """Write the counts of a deletion (the pre_delete receiver, for every way of deleting)."""
    via = getattr(member, "_deletion_via", MemberDeletion.Via.OTHER)
    fresh = User.objects.filter(pk=member.pk).values("referrals_count", "referred_by_id").first()
    record = MemberDeletion.objects.create(
        via=via,
        referrals=fresh["referrals_count"] if fresh else member.referrals_count,
        had_inviter=bool(fresh["referred_by_id"] if fresh else member.referred_by_id),
    )
    member._deletion_record = record.pk  # type: ignore[attr-defined]
    return record


def throttle_records_forget(*, member: User) -> None:
    """The staff password throttle's records of this account (django-axes, by phone)."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    username = str(member.phone)
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username=username).delete()


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


LOOKUP_WINDOW = timedelta(hours=1)


def invite_lookup_allow(*, ip: str) -> bool:
    """Count one invite-code lookup from `ip` (a /64 for IPv6); False once over the hour's limit.

    One upsert in the database (shared by every process, as the sign-in limits
    are): a fixed hourly window per address. A limit counter is the one write a
    read of an invite may make; windows older than the last hour go with the
    first lookup of each new address in an hour, so no housekeeping job is needed.
    """
    from profiles.models import LookupWindow

    now = timezone.now()
    start = now.replace(minute=0, second=0, microsecond=0)
    bucket = f"invite:{ip}"[:64]
    table = connection.ops.quote_name(LookupWindow._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (bucket, window_start, count) VALUES (%s, %s, 1)
            ON CONFLICT (bucket, window_start) DO UPDATE SET count = {table}.count + 1
            RETURNING count
            """,  # noqa: S608 - the table name is ours, values are parameters
            [bucket, start],
        )
        count = cursor.fetchone()[0]
        if count == 1:
            # A new address this hour: windows before the last hour are of no use to
            # anyone any more (an index range, empty but for the first of each hour).
            LookupWindow.objects.filter(window_start__lt=start - LOOKUP_WINDOW).delete()
    return count <= settings.INVITE_LOOKUP_IP_HOURLY
