"""The staff password form is throttled per account and per client IP (django-axes).

django-axes counts failed password sign-ins in the database (so every process
and machine shares the counts), refuses further attempts from an account or an
address that reached the limit until the cool-off has passed, and answers them
with `lockout_response`. Its backend only says no: a password sign-in is still
recorded with StaffPasswordBackend (core/staff.py). Settings: the
"staff password throttle" block in settings.py.
"""

import math
from typing import Any

import phonenumbers
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import BACKEND_SESSION_KEY
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext

from core.staff import PASSWORD_BACKEND

LOCKOUT_TEMPLATE = "admin/staff_locked_out.html"


def username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account a sign-in names, as one key however the phone was typed.

    `+7 999 000-00-01`, `89990000001` and `+79990000001` are one account, so
    retyping the phone does not open a fresh count.
    """
    typed = (credentials or {}).get("username")
    if typed is None:
        typed = request.POST.get("username") if request is not None else None
    if not typed:
        return None
    typed = str(typed).strip()
    try:
        number = phonenumbers.parse(typed, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return typed.casefold()[:255]
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class StaffAxesHandler(AxesDatabaseHandler):
    """Axes' database handler, minding password sign-ins only.

    Members sign in and out by phone code many times a day; axes has nothing to
    count there, so those sign-ins cost it no query.
    """

    def user_logged_in(self, sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
        # login() names the backend in the session before it sends the signal.
        if request.session.get(BACKEND_SESSION_KEY) == PASSWORD_BACKEND:
            super().user_logged_in(sender, request, user, **kwargs)

    def user_logged_out(self, sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
        if request.session.get(BACKEND_SESSION_KEY) == PASSWORD_BACKEND:
            super().user_logged_out(sender, request, user, **kwargs)


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the admin's own page saying why and for how long (429)."""
    retry_after = _seconds_until_unlocked(request, credentials)
    context = {
        **admin.site.each_context(request),
        "title": gettext("Sign-in paused"),
        "minutes": max(1, math.ceil(retry_after / 60)),
    }
    response = render(request, LOCKOUT_TEMPLATE, context, status=settings.AXES_HTTP_RESPONSE_CODE)
    response["Retry-After"] = str(retry_after)
    return response


def _seconds_until_unlocked(request: HttpRequest, credentials: dict[str, Any] | None) -> int:
    """When the newest counted failure of this account or address leaves the window."""
    cool_off = get_cool_off(request)
    if cool_off is None:
        return 0
    account = username(request, credentials)
    address = getattr(request, "axes_ip_address", None)
    latest = AccessAttempt.objects.filter(
        Q(username=account) | Q(ip_address=address),
        attempt_time__gte=timezone.now() - cool_off,
    ).aggregate(latest=Max("attempt_time"))["latest"]
    if latest is None:
        return int(cool_off.total_seconds())
    remaining = (latest + cool_off - timezone.now()).total_seconds()
    return max(1, math.ceil(remaining))
