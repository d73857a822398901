"""Webhook reads for the console, the command and /metrics: endpoints, their log,
attempts, the figures of delivery."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from webhooks.models import Attempt, Endpoint, Message

LOG_PAGE_SIZE = 50


def endpoint_list() -> QuerySet[Endpoint]:
    """Every endpoint, with its messages counted by state (one query)."""
    return Endpoint.objects.annotate(
        pending_count=Count("messages", filter=Q(messages__state=Message.State.PENDING)),
        failed_count=Count("messages", filter=Q(messages__state=Message.State.FAILED)),
        delivered_count=Count("messages", filter=Q(messages__state=Message.State.DELIVERED)),
    ).order_by("pk")


def endpoints_disabled_failing() -> list[Endpoint]:
    """Endpoints the service turned off after failing too long: the console's notice."""
    return list(
        Endpoint.objects.filter(
            enabled=False, disabled_reason=Endpoint.DisabledReason.FAILING
        ).order_by("-disabled_at")
    )


def endpoint_get(*, pk: Any) -> Endpoint | None:
    return endpoint_list().filter(pk=pk).first() if str(pk).isdigit() else None


def messages_page(*, endpoint: Endpoint, state: str = "", number: Any = 1) -> Page:
    """The endpoint's messages, newest first, 50 a page; `state` narrows them."""
    messages = Message.objects.filter(endpoint=endpoint).order_by("-created_at", "-pk")
    if state in Message.State.values:
        messages = messages.filter(state=state)
    return Paginator(messages, LOG_PAGE_SIZE).get_page(number)


def message_get(*, endpoint: Endpoint, pk: Any) -> Message | None:
    if not str(pk).isdigit():
        return None
    return Message.objects.filter(endpoint=endpoint, pk=pk).first()


def attempts_of(*, message: Message) -> list[Attempt]:
    return list(Attempt.objects.filter(message=message).order_by("-number"))


@dataclass(frozen=True)
class DeliveryFigures:
    messages: dict[str, int]  # every state named, 0 included
    endpoints: dict[str, int]  # enabled, disabled_staff, disabled_failing
    overdue_seconds: float  # how late the most overdue pending message is (0: none)


def delivery_figures(*, now: datetime | None = None) -> DeliveryFigures:
    """Messages by state in the kept log (WEBHOOK_LOG_DAYS), endpoints by status, and
    how far delivery is behind: the pending message whose next try is the most
    overdue. Two queries."""
    now = now or timezone.now()
    grouped = Message.objects.order_by().values("state").annotate(n=Count("*"))
    rows = grouped.annotate(due=Min("next_attempt_at")).values_list("state", "n", "due")
    counts = {state: n for state, n, _ in rows}
    oldest = next((due for state, _, due in rows if state == Message.State.PENDING), None)
    statuses = {
        "enabled": Q(enabled=True),
        "disabled_staff": Q(enabled=False, disabled_reason=Endpoint.DisabledReason.STAFF),
        "disabled_failing": Q(enabled=False, disabled_reason=Endpoint.DisabledReason.FAILING),
    }
    # Named apart from the fields (an aggregate may not share a field's name).
    counted = Endpoint.objects.aggregate(
        **{f"n_{status}": Count("pk", filter=where) for status, where in statuses.items()}
    )
    endpoints = {status: counted[f"n_{status}"] for status in statuses}
    return DeliveryFigures(
        messages={state: counts.get(state, 0) for state in Message.State.values},
        endpoints=endpoints,
        overdue_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
    )
