"""Reads of the fraud room: flags for the console's list and a member's page, how
far the judging has read, and which rewards an open flag holds."""

from collections.abc import Iterable
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from fraud.models import FraudFlag, JudgingMark
from profiles.models import User

FLAGS_PAGE_SIZE = 50
# The judging's mark (fraud.services.flags_refresh keeps it).
FLAGS_MARK = "fraud_flags"


def flags_page(
    *, reason: str | None = None, status: str | None = None, number: int | str | None = 1
) -> Page:
    """Flags, open ones first and newest first, with their inviter and referral."""
    flags = FraudFlag.objects.select_related("inviter", "subject", "reviewed_by")
    if reason in FraudFlag.Reason.values:
        flags = flags.filter(reason=reason)
    if status in FraudFlag.Status.values:
        flags = flags.filter(status=status)
    flags = flags.order_by("-updated_at", "-pk")
    return Paginator(flags, FLAGS_PAGE_SIZE).get_page(number)


def open_flags_count() -> int:
    return FraudFlag.objects.filter(status=FraudFlag.Status.OPEN).count()


def flag_get(*, pk: int) -> FraudFlag | None:
    return (
        FraudFlag.objects.select_related("inviter", "subject", "reviewed_by").filter(pk=pk).first()
    )


def flags_of_member(*, member: User) -> QuerySet[FraudFlag]:
    return FraudFlag.objects.filter(Q(inviter=member) | Q(subject=member)).order_by("-updated_at")


def judged_until() -> datetime | None:
    """Activations before this moment have been judged by the fraud rules (None: none yet).

    A full scan re-reads a margin and a partial one stops inside a moment, so only
    what lies strictly before the mark is certain to have been read.
    """
    return JudgingMark.objects.filter(name=FLAGS_MARK).values_list("scanned_to", flat=True).first()


def open_flags_touching(
    *, referral_ids: Iterable[int], member_ids: Iterable[int]
) -> tuple[set[int], set[int]]:
    """Which of these referrals and members an open flag touches, in one query.

    A flag about one referral touches that referral (as the one a reward is for);
    a flag about an inviter as a whole touches everything of that inviter. Returns
    (flagged referral ids, flagged inviter ids).
    """
    referral_ids, member_ids = set(referral_ids) - {None}, set(member_ids) - {None}
    if not referral_ids and not member_ids:
        return set(), set()
    rows = FraudFlag.objects.filter(status=FraudFlag.Status.OPEN).filter(
        Q(subject_id__in=referral_ids) | Q(subject__isnull=True, inviter_id__in=member_ids)
    )
    subjects: set[int] = set()
    inviters: set[int] = set()
    for subject_id, inviter_id in rows.values_list("subject_id", "inviter_id"):
        if subject_id is None:
            inviters.add(inviter_id)
        else:
            subjects.add(subject_id)
    return subjects, inviters
