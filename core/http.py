"""Request helpers."""

import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect


def client_ip(request: HttpRequest) -> str:
    """The client address for per-IP limits, trusting only the configured reverse proxies.

    Each trusted proxy appends the address it received the request from, so the
    client is the N-th entry from the right; entries further left are whatever
    the client claimed and cannot be trusted.
    """
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - not a bind address
    try:
        remote = _limit_bucket(remote)
    except ValueError:
        remote = "0.0.0.0"  # noqa: S104 - not a bind address
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) < proxies:
        return remote
    try:
        return _limit_bucket(forwarded[-proxies])
    except ValueError:
        return remote


def _limit_bucket(address: str) -> str:
    """The address as per-IP limits count it: IPv6 by /64, the block one client holds."""
    ip = ipaddress.ip_address(address.strip())
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


def signed_cookie_set(
    response: HttpResponse, name: str, value: str, *, salt: str, max_age: int
) -> None:
    """Keep a little state for a signed-out visitor in a signed cookie, not a session
    row (which every visitor, or bot, would write).

    HttpOnly, SameSite=Lax, Secure in production. A value that is not ASCII is not
    kept: a header carries only Latin-1, and gunicorn answers 500 to anything else.
    """
    if not value or not value.isascii():
        return
    response.set_signed_cookie(
        name,
        value,
        salt=salt,
        max_age=max_age,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def signed_cookie_get(request: HttpRequest, name: str, *, salt: str, max_age: int) -> str:
    """The value `signed_cookie_set` kept, or "" (none, expired or tampered with)."""
    return request.get_signed_cookie(name, default="", salt=salt, max_age=max_age)


def fragment_wanted(request: HttpRequest) -> bool:
    """htmx asked for a part of the page (a history restore wants the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def render_page(
    request: HttpRequest,
    template: str,
    fragment: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    """The whole page, or for htmx only the page's own `{% partialdef %}` fragment.

    One URL answers both ways, so caches are told to keep them apart (Vary).
    """
    name = f"{template}#{fragment}" if fragment_wanted(request) else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def redirect_page(request: HttpRequest, to: str) -> HttpResponse:
    """A redirect htmx follows as a full page load (HX-Redirect), or a plain 302."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(to)
    return HttpResponseRedirect(to)


def member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """login_required that also suits htmx.

    A signed-out htmx request (a poll, a check while typing) must not get the
    sign-in page swapped into a fragment: the browser goes to sign-in instead,
    and afterwards back to the page it was on, not to the fragment's URL.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        htmx = getattr(request, "htmx", None)
        if htmx:
            page = htmx.current_url_abs_path or ""
            return HttpResponseClientRedirect(redirect_to_login(page).url)
        return redirect_to_login(request.get_full_path())

    return wrapper
