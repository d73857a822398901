"""Reads of the fraud room: flags for the console's list and a member's page."""

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from fraud.models import FraudFlag
from profiles.models import User

FLAGS_PAGE_SIZE = 50


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
