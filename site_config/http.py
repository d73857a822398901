"""Request helpers."""

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django_htmx.http import HttpResponseClientRedirect


def client_ip(request: HttpRequest) -> str:
    """The client address, trusting only the configured number of reverse proxies.

    Each trusted proxy appends the address it received the request from, so the
    client is the N-th entry from the right; entries further left are whatever
    the client claimed and cannot be trusted.
    """
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - not a bind address
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
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def render_page(
    request: HttpRequest,
    template: str,
    fragment: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    """The whole page, or for htmx only the page's own `{% partialdef %}` fragment."""
    name = f"{template}#{fragment}" if getattr(request, "htmx", False) else template
    return render(request, name, context, status=status)


def redirect_page(request: HttpRequest, to: str) -> HttpResponse:
    """A redirect htmx follows as a full page load (HX-Redirect), or a plain 302."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(to)
    return HttpResponseRedirect(to)
