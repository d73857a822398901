"""The console's webhook screens: endpoints, their secret (shown once), the delivery
log, replay. One page template per screen; htmx gets that page's own partials."""

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from core.errors import DomainError
from core.http import fragment_wanted, render_page
from core.staff import staff_required
from webhooks import selectors, services
from webhooks.models import Endpoint, Message

LIST = "staff_console/webhooks.html"
DETAIL = "staff_console/webhook.html"
VIEW = "webhooks.view_endpoint"
CHANGE = "webhooks.change_endpoint"


def _page(
    request: HttpRequest, template: str, partial: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    response = render_page(request, template, partial, context, status=status)
    response["Cache-Control"] = "no-store"  # a secret may be on it
    return response


def _list_context(**extra: Any) -> dict[str, Any]:
    return {
        "endpoints": selectors.endpoint_list(),
        "disabled_failing": selectors.endpoints_disabled_failing(),
        "event_types": services.EVENT_TYPES,
        "form": {"url": "", "event_types": [], "description": ""},
        **extra,
    }


@staff_required(perm=VIEW)
@require_GET
def webhooks(request: HttpRequest) -> HttpResponse:
    return _page(request, LIST, "endpoint-list", _list_context())


@staff_required(perm=CHANGE)
@require_POST
def webhook_add(request: HttpRequest) -> HttpResponse:
    form = {
        "url": request.POST.get("url", ""),
        "event_types": request.POST.getlist("event_types"),
        "description": request.POST.get("description", ""),
    }
    try:
        endpoint, secret = services.endpoint_create(
            url=form["url"], event_types=form["event_types"], description=form["description"]
        )
    except DomainError as error:
        context = _list_context(form=form, error=error.message, error_field=error.field)
        response = _page(request, LIST, "add-form", context, status=422)
        # htmx aimed at the whole list; the errors belong to the form alone.
        return (
            reswap(retarget(response, "#add-form"), "outerHTML")
            if fragment_wanted(request)
            else response
        )
    context = _list_context(created=endpoint, secret=secret)
    return _page(request, LIST, "endpoint-list", context)


def _endpoint(pk: int) -> Endpoint:
    endpoint = selectors.endpoint_get(pk=pk)
    if endpoint is None:
        raise Http404
    return endpoint


def _detail_context(request: HttpRequest, endpoint: Endpoint, **extra: Any) -> dict[str, Any]:
    state = request.GET.get("state") or ""
    return {
        "endpoint": endpoint,
        "event_types": services.EVENT_TYPES,
        "messages": selectors.messages_page(
            endpoint=endpoint, state=state, number=request.GET.get("page")
        ),
        "state": state if state in Message.State.values else "",
        "states": Message.State.choices,
        "disable_days": settings.WEBHOOK_DISABLE_AFTER_DAYS,
        **extra,
    }


@staff_required(perm=VIEW)
@require_GET
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    return _page(request, DETAIL, "message-log", _detail_context(request, endpoint))


def _card(
    request: HttpRequest, endpoint: Endpoint, status: int = 200, **extra: Any
) -> HttpResponse:
    endpoint = _endpoint(endpoint.pk)  # counts and state as they are now
    return _page(
        request, DETAIL, "endpoint-card", _detail_context(request, endpoint, **extra), status
    )


@staff_required(perm=CHANGE)
@require_POST
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    try:
        services.endpoint_update(
            endpoint=endpoint,
            url=request.POST.get("url", ""),
            event_types=request.POST.getlist("event_types"),
            description=request.POST.get("description", ""),
        )
    except DomainError as error:
        endpoint.refresh_from_db()
        return _card(request, endpoint, status=422, error=error.message, error_field=error.field)
    return _card(request, endpoint, notice=_("Saved."))


@staff_required(perm=CHANGE)
@require_POST
def webhook_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    try:
        if request.POST.get("enabled") == "1":
            services.endpoint_enable(endpoint=endpoint)
            notice = _("Enabled: new events are sent again.")
        else:
            services.endpoint_disable(endpoint=endpoint)
            notice = _("Disabled: nothing is sent until it is enabled again.")
    except DomainError as error:
        return _card(request, endpoint, status=422, error=error.message)
    return _card(request, endpoint, notice=notice)


@staff_required(perm=CHANGE)
@require_POST
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    secret = services.endpoint_rotate(endpoint=endpoint)
    return _card(request, endpoint, secret=secret)


@staff_required(perm=CHANGE)
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    services.test_event_send(endpoint=endpoint)
    return _card(request, endpoint, notice=_("Test event queued: it shows in the log below."))


@staff_required(perm=CHANGE)
@require_POST
def webhook_replay(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    count = services.endpoint_replay_failed(endpoint=endpoint)
    context = _detail_context(request, endpoint, replayed=count)
    return _page(request, DETAIL, "message-log", context)


def _message(endpoint: Endpoint, message_pk: int) -> Message:
    message = selectors.message_get(endpoint=endpoint, pk=message_pk)
    if message is None:
        raise Http404
    return message


@staff_required(perm=VIEW)
@require_GET
def webhook_message(request: HttpRequest, pk: int, message_pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    message = _message(endpoint, message_pk)
    context = _detail_context(
        request, endpoint, message=message, attempts=selectors.attempts_of(message=message)
    )
    return _page(request, DETAIL, "attempts", context)


@staff_required(perm=CHANGE)
@require_POST
def webhook_message_replay(request: HttpRequest, pk: int, message_pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    message = _message(endpoint, message_pk)
    try:
        message = services.message_replay(message=message)
    except DomainError as error:
        return HttpResponse(error.message, status=error.status, content_type="text/plain")
    context = _detail_context(request, endpoint, message=message, just_replayed=True)
    return _page(request, DETAIL, "message-row", context)
