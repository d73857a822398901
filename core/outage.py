"""Answers while the database is unreachable: 503 with Retry-After, never a 500.

Django hands every uncaught exception to `handler500` (with DEBUG off), from
whichever layer raised it: a view, the session or user lookup, DRF. When the
exception says the database cannot be reached (the pool's timeout, a refused or
broken connection), the answer is a 503 that says when to come back: the API's
error shape under /api/, otherwise a page in the site's style that keeps what
the person typed (the phone on the sign-in form, the code, the invite code).
Anything else stays the ordinary 500: it is a bug to see.

Nothing here may touch the database again: the user is taken as anonymous and
the session is left unread (SessionMiddleware saves no session on a 5xx).
"""

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from core import error_pages
from core.api.errors import SERVICE_UNAVAILABLE_DETAIL, error_body, expected_outage

logger = logging.getLogger(__name__)

NOTICE = SERVICE_UNAVAILABLE_DETAIL
OUTAGE_PAGE = "503.html"

# Forms an app answers itself during an outage, by path: the app knows its form
# and template (core imports no app). Registered in the app's ready();
# the callable gets the request and the notice, and must not touch the database.
outage_forms: dict[str, Callable[[HttpRequest, str], HttpResponse]] = {}


@dataclass(frozen=True)
class RetryField:
    """The one typed value of a form the outage page offers to send again."""

    name: str
    label: str
    # The form's hx-target is the card the outage fragment replaces (no retarget).
    own_target: bool = False


# Registered by path in the app's ready(), like outage_forms: the app knows its URLs.
retry_fields: dict[str, RetryField] = {}


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether an exception means the database cannot be reached right now.

    psycopg's pool timeout is an OperationalError, which Django wraps as its own;
    a connection broken mid-request surfaces as OperationalError or InterfaceError.
    Integrity or programming errors are bugs, not outages. Only an explicit cause
    counts (`raise … from error`): an error raised while handling another is its own.
    """
    while exc is not None:
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        exc = exc.__cause__
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 for a database outage, the site's 500 page for anything else."""
    error = sys.exc_info()[1]
    if not database_unavailable(error):
        return error_pages.server_error(request)
    response = unavailable_response(request)
    # One line per request instead of Django's traceback: an outage is not a bug.
    logger.warning(
        "database unavailable: %s %s -> 503 (%s)",
        request.method,
        request.path,
        type(error).__name__,
    )
    return expected_outage(response)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    # The session and user live in the database: asking again would wait again.
    request.user = AnonymousUser()
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            error_body(code="service_unavailable", detail=NOTICE), status=503
        )
    else:
        response = _page(request)
    response["Retry-After"] = str(settings.OUTAGE_RETRY_AFTER)
    return response


def _page(request: HttpRequest) -> HttpResponse:
    htmx = bool(getattr(request, "htmx", False))
    own_form = outage_forms.get(request.path) if request.method == "POST" else None
    if own_form is not None:
        return own_form(request, str(NOTICE))
    context = {"notice": NOTICE, "retry": _retry_form(request)}
    response = render(
        request, f"{OUTAGE_PAGE}#outage-card" if htmx else OUTAGE_PAGE, context, status=503
    )
    if htmx:
        if request.method == "GET":
            # A poll or a check while typing: keep the page as it is, the next one retries.
            response["HX-Reswap"] = "none"
        elif not (request.path in retry_fields and retry_fields[request.path].own_target):
            # A form whose target is the card this fragment replaces keeps it; others not.
            response["HX-Retarget"] = "#main"
            response["HX-Reswap"] = "innerHTML"
    return response


def _retry_form(request: HttpRequest) -> dict | None:
    field = retry_fields.get(request.path) if request.method == "POST" else None
    if field is None:
        return None
    return {
        "action": request.path,
        "name": field.name,
        "label": field.label,
        "value": request.POST.get(field.name, "")[:32],
    }
