"""Webhook reads for the console and the command: endpoints, their log, attempts."""

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet

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
