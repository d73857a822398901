"""Reads of members, invite codes and referrals."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, Max, QuerySet

from profiles.errors import InviteAlreadyActivated, InviteCycle, InviteNotFound, InviteOwnCode
from profiles.models import INVITE_CODE_ALPHABET, INVITE_CODE_LENGTH, User

REFERRALS_PAGE_SIZE = 50


def invite_code_normalize(code: str) -> str:
    return code.strip().upper()


def invite_code_is_well_formed(code: str) -> bool:
    return len(code) == INVITE_CODE_LENGTH and all(c in INVITE_CODE_ALPHABET for c in code)


def invite_owner_get(*, user: User, code: str) -> User:
    """The member whose code `user` may activate, or the rule that forbids it.

    Used to validate while typing and, under a lock, by `invite_activate`.
    """
    if user.activated_at is not None:
        raise InviteAlreadyActivated
    code = invite_code_normalize(code)
    owner = (
        User.objects.filter(invite_code=code).only("pk", "invite_code").first()
        if invite_code_is_well_formed(code)
        else None
    )
    if owner is None:
        raise InviteNotFound
    if owner.pk == user.pk:
        raise InviteOwnCode
    if _joined_through(member=owner, ancestor=user):
        raise InviteCycle
    return owner


def _joined_through(*, member: User, ancestor: User) -> bool:
    """Whether `ancestor` stands anywhere up `member`'s chain of inviters (one query)."""
    table = User._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE chain(id, referred_by_id, depth) AS (
                SELECT id, referred_by_id, 0 FROM {table} WHERE id = %s
                UNION ALL
                SELECT u.id, u.referred_by_id, chain.depth + 1
                FROM {table} u JOIN chain ON u.id = chain.referred_by_id
                WHERE chain.depth < 100000
            )
            SELECT 1 FROM chain WHERE id = %s LIMIT 1
            """,  # noqa: S608 - the table name is ours, values are parameters
            [member.pk, ancestor.pk],
        )
        return cursor.fetchone() is not None


def referrals_list(*, user: User) -> QuerySet[User]:
    """Members who entered `user`'s code, newest first."""
    return (
        User.objects.filter(referred_by=user)
        .order_by("-activated_at", "-pk")
        .only("pk", "phone", "activated_at")
    )


def referrals_page(*, user: User, number: int | str | None = 1) -> Page:
    """One page of referrals; two queries (count and rows) however many there are."""
    return Paginator(referrals_list(user=user), REFERRALS_PAGE_SIZE).get_page(number)


def referrals_version(*, user: User) -> str:
    """A tag that changes whenever a referral arrives or leaves (one indexed query)."""
    summary = User.objects.filter(referred_by=user).aggregate(
        count=Count("pk"), newest=Max("activated_at")
    )
    newest = summary["newest"].timestamp() if summary["newest"] else 0
    return f"{summary['count']}-{newest:.6f}"


@dataclass(frozen=True)
class ProfileSummary:
    user: User
    activated_invite_code: str | None
    referrals: Page


def profile_get(*, user: User) -> ProfileSummary:
    activated_code = (
        User.objects.filter(pk=user.referred_by_id).values_list("invite_code", flat=True).first()
        if user.referred_by_id
        else None
    )
    return ProfileSummary(
        user=user,
        activated_invite_code=activated_code,
        referrals=referrals_page(user=user),
    )
