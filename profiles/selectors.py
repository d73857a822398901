"""Reads of members, invite codes and referrals."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page
from django.db import connection
from django.db.models import CharField, QuerySet
from django.db.models.functions import Cast
from django.utils.crypto import salted_hmac

from core.pagination import counted_page, page_index
from core.phones import phone_masked
from profiles.errors import InviteAlreadyActivated, InviteCycle, InviteNotFound, InviteOwnCode
from profiles.invite_codes import invite_code_is_well_formed, invite_code_normalize
from profiles.models import User

REFERRALS_PAGE_SIZE = 50


@dataclass(frozen=True)
class InviteTarget:
    """Whose code a member may enter, and the root of that member's referral tree."""

    owner_id: int
    # The top of the owner's chain of inviters (the owner, if nobody invited them):
    # the row an activation into this tree locks (profiles.services.invite_activate).
    root_id: int


def invite_chain_sql(table: str) -> str:
    """The CTEs `chain` (the owner of a code and their chain of inviters, upwards) and
    `target` (one row: the owner, the top of the chain and whether the member stands
    in it, a cycle). Named parameters `code` and `member` (invite_chain_params), which
    the statement built on it may use again. Portable SQL (PostgreSQL, SQLite);
    `invite_activate` adds its row locks (and on PostgreSQL its writes) to it."""
    return f"""
        WITH RECURSIVE chain(id, referred_by_id, depth) AS (
            SELECT id, referred_by_id, 0 FROM {table} WHERE invite_code = %(code)s
            UNION ALL
            SELECT u.id, u.referred_by_id, chain.depth + 1
            FROM {table} u JOIN chain ON u.id = chain.referred_by_id
            WHERE chain.depth < 100000
        ),
        target(owner_id, root_id, through_member) AS (
            SELECT MAX(CASE WHEN depth = 0 THEN id END),
                   MAX(CASE WHEN referred_by_id IS NULL THEN id END),
                   MAX(CASE WHEN id = %(member)s THEN 1 ELSE 0 END)
            FROM chain
        )
    """  # noqa: S608 - the table name is ours, values are parameters


def invite_chain_params(*, user: User, code: str) -> dict[str, object]:
    code = invite_code_normalize(code)
    return {"code": code if invite_code_is_well_formed(code) else "", "member": user.pk}


def invite_target_judge(
    *,
    user: User,
    activated_at: datetime | None,
    owner_id: int | None,
    root_id: int | None,
    through_member: int | None,
) -> InviteTarget:
    """The rules of entering a code, on what `invite_chain_sql` read: the member has
    not activated (as the row says now, not the caller's instance), the code has an
    owner, it is not their own, and they do not stand in its chain (no cycle)."""
    if activated_at is not None:
        raise InviteAlreadyActivated
    if owner_id is None:
        raise InviteNotFound
    if owner_id == user.pk:
        raise InviteOwnCode
    if through_member:
        raise InviteCycle
    assert root_id is not None  # a chain with an owner has a top
    return InviteTarget(owner_id=owner_id, root_id=root_id)


def invite_target_get(*, user: User, code: str) -> InviteTarget:
    """The member whose code `user` may activate, or the rule that forbids it.

    Used to validate while typing; `invite_activate` reads the same chain in the
    statement that locks its rows. One query: whether `user` has activated a code
    by now, the code's owner, the chain of inviters above them, its top and whether
    `user` stands in it (a cycle).
    """
    if user.activated_at is not None:
        raise InviteAlreadyActivated
    table = User._meta.db_table
    select = (
        f"SELECT (SELECT activated_at FROM {table} WHERE id = %(member)s),"  # noqa: S608
        " owner_id, root_id, through_member FROM target"
    )
    with connection.cursor() as cursor:
        cursor.execute(invite_chain_sql(table) + select, invite_chain_params(user=user, code=code))
        activated_at, owner_id, root_id, through_member = cursor.fetchone()
    return invite_target_judge(
        user=user,
        activated_at=activated_at,
        owner_id=owner_id,
        root_id=root_id,
        through_member=through_member,
    )


def referral_phone_shown(phone: str) -> str:
    """A referral's number as their inviter may see it (REFERRAL_PHONES): E.164, or masked."""
    return phone if settings.REFERRAL_PHONES == "full" else phone_masked(phone)


@dataclass(frozen=True)
class Referral:
    """A member who joined with my code, as the lists show them.

    `e164` is for the server only (the key of the rows' notes from other rooms); the
    page shows `phone` and names the row by `row_id`, a keyed hash of the number, so
    a masked list never carries the whole number.
    """

    phone: str
    joined_at: datetime
    e164: str

    @property
    def row_id(self) -> str:
        return (
            "referral-"
            + salted_hmac("profiles.referral-row", self.e164, algorithm="sha256").hexdigest()[:16]
        )


def _referral(phone: str, joined_at: datetime) -> Referral:
    return Referral(referral_phone_shown(phone), joined_at, phone)


def referrals_list(*, user: User) -> QuerySet[User, tuple[str, datetime]]:
    """Members who entered `user`'s code, newest first: (E.164 phone, joined at).

    The phone is read as stored text: parsing fifty numbers back into phone
    objects costs more than the rest of a profile request.
    """
    return (
        User.objects.filter(referred_by=user)
        .order_by("-activated_at", "-pk")
        .values_list(Cast("phone", CharField()), "activated_at")
    )


def referrals_page(*, user: User, number: int | str | None = 1) -> Page:
    """One page of referrals and their total: one query, however many there are.

    The total is the count stored on the member's row (kept by the activation and
    deletion transactions), so nothing counts the rows. The page's query always
    runs (Paginator skips the rows of an empty list), so the cost of a page does
    not depend on the number of referrals, not even at zero. A page past the end
    shows the last one, as Paginator.get_page does.
    """
    referrals = referrals_list(user=user)
    total = user.referrals_count
    last = max(1, -(-total // REFERRALS_PAGE_SIZE))
    index = page_index(number, last=last)
    offset = (index - 1) * REFERRALS_PAGE_SIZE
    rows = [
        _referral(phone, joined)
        for phone, joined in referrals[offset : offset + REFERRALS_PAGE_SIZE]
    ]
    return counted_page(rows, index=index, per_page=REFERRALS_PAGE_SIZE, count=total)


def referrals_around(
    *,
    user: User,
    newer_than: datetime | None = None,
    older_than: datetime | None = None,
    limit: int = REFERRALS_PAGE_SIZE,
) -> list[Referral]:
    """Referrals newest first, only those after or before a moment: the live list's
    new arrivals (`newer_than` its newest row) and its "Show more" (`older_than` its
    oldest), so rows added on top never shift what the next "Show more" brings."""
    rows = referrals_list(user=user)
    if newer_than is not None:
        rows = rows.filter(activated_at__gt=newer_than)
    if older_than is not None:
        rows = rows.filter(activated_at__lt=older_than)
    return [_referral(phone, joined) for phone, joined in rows[:limit]]


def referrals_shown(
    *, user: User, newest: datetime, oldest: datetime | None, limit: int
) -> list[Referral]:
    """The rows an open list shows, from its newest row down to its oldest (to the end
    of the list without one), newest first: what a poll brings up to date in place."""
    rows = referrals_list(user=user).filter(activated_at__lte=newest)
    if oldest is not None:
        rows = rows.filter(activated_at__gte=oldest)
    return [_referral(phone, joined) for phone, joined in rows[:limit]]


def referrals_version(*, user: User) -> str:
    """A tag that changes whenever the referrals list does: read from the member's row.

    Every open profile polls it every 5 s. It is the number of changes to the list
    (a referral joined or left), bumped in the same transaction as the change, so
    an unchanged poll needs nothing beyond the member the request already loaded.
    """
    return str(user.referrals_changes)


def referrals_version_key(member_id: int | str) -> str:
    return f"profiles:referrals-version:{member_id}"


def referrals_version_share(*, user: User) -> str:
    """The version of `user`'s list, also put where the poll looks first, if it is missing.

    Called by every view that hands out a version, so the first poll of a page is
    already the cheap one. Only adds: a version a service published (newer, or
    equal) is never overwritten by one read earlier. Beside it goes the member's
    session hash as the database has it now (the view only runs for a session
    that passed the sign-in check): the poll answers from the cache only for a
    session carrying that hash, so a session a suspension ended stays ended.
    """
    version = referrals_version(user=user)
    if settings.REDIS_URL:
        cache.add(referrals_version_key(user.pk), version, timeout=VERSION_CACHE_SECONDS)
        cache.set(
            referrals_session_hash_key(user.pk),
            user.get_session_auth_hash(),
            timeout=VERSION_CACHE_SECONDS,
        )
    return version


def referrals_session_hash_key(member_id: int | str) -> str:
    return f"profiles:referrals-session-hash:{member_id}"


# How long the shared cache keeps a list version for the referrals poll (a day:
# a quiet member's open tab keeps finding it; afterwards one full poll adds it back).
VERSION_CACHE_SECONDS = 24 * 3600


def referrals_version_shared(*, member_id: int | str) -> tuple[str | None, str | None]:
    """The version as last published to the cache every process shares, and the session
    hash a session must carry for the cache's word to count; (None, None) without one.

    Only with REDIS_URL: a per-process cache could hold an old version forever.
    Services publish each new version inside the change's transaction (with the
    member's row locked, so in order); a reader can only hold a version it got from
    the database, so a version published by a transaction that then rolled back
    matches no one and costs only the full path.
    """
    if not settings.REDIS_URL:
        return None, None
    version_key, hash_key = referrals_version_key(member_id), referrals_session_hash_key(member_id)
    found = cache.get_many([version_key, hash_key])
    return found.get(version_key), found.get(hash_key)


@dataclass(frozen=True)
class ProfileSummary:
    """What the profile shows: the member, the code they entered, the newest referrals."""

    member_id: int
    phone: str
    invite_code: str
    date_joined: datetime
    activated_invite_code: str | None
    referrals: Page


# The whole profile in one statement: the member (only while active: a deactivated
# member's token must not read it), the code they entered, the stored count, and
# the newest page of referrals read at the end of their index, one row each (one
# row of NULLs without any). Phones stay text. Rows rather than arrays: no
# aggregate to sort and no array to parse (measured: about a third faster).
_PROFILE_SQL = """
SELECT u.id, u.phone, u.invite_code, u.date_joined, u.referrals_count,
       (SELECT inviter.invite_code FROM {table} inviter WHERE inviter.id = u.referred_by_id),
       r.phone, r.activated_at
FROM {table} u
LEFT JOIN LATERAL (
    SELECT phone, activated_at, id FROM {table}
    WHERE referred_by_id = u.id ORDER BY activated_at DESC, id DESC LIMIT %s
) r ON TRUE
WHERE u.id = %s AND u.is_active
ORDER BY r.activated_at DESC, r.id DESC
"""


def profile_get(*, user: User) -> ProfileSummary | None:
    """The member's profile; None if they may no longer be served (deactivated, gone).

    On PostgreSQL one query, however many referrals there are, so an API
    request needs no other lookup of its member. `user` may be the token's
    stateless user: only its id is read.
    """
    if connection.vendor != "postgresql":
        return _profile_get_portable(member_id=user.pk)
    table = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(_PROFILE_SQL.format(table=table), [REFERRALS_PAGE_SIZE, user.pk])
        found = cursor.fetchall()
    if not found:
        return None
    member_id, phone, invite_code, date_joined, total, activated_code = found[0][:6]
    rows = [_referral(p, j) for *_, p, j in found if p is not None]
    return ProfileSummary(
        member_id=member_id,
        phone=phone,
        invite_code=invite_code,
        date_joined=date_joined,
        activated_invite_code=activated_code,
        referrals=counted_page(rows, index=1, per_page=REFERRALS_PAGE_SIZE, count=total),
    )


def _profile_get_portable(*, member_id: int) -> ProfileSummary | None:
    """The same profile in plain ORM queries, for SQLite (`make run`)."""
    member = (
        User.objects.filter(pk=member_id, is_active=True)
        .select_related("referred_by")
        .only("phone", "invite_code", "date_joined", "referrals_count", "referred_by__invite_code")
        .first()
    )
    if member is None:
        return None
    return ProfileSummary(
        member_id=member.pk,
        phone=str(member.phone),
        invite_code=member.invite_code,
        date_joined=member.date_joined,
        activated_invite_code=member.referred_by.invite_code if member.referred_by else None,
        referrals=referrals_page(user=member),
    )
