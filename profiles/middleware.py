"""The referrals poll, answered before the rest of the stack when nothing changed."""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from core.sessions import session_cached
from profiles.selectors import referrals_version_shared


class ReferralsPollMiddleware:
    """Every open profile polls its referrals every 5 s: an unchanged poll costs next to nothing.

    With a shared cache (REDIS_URL), an htmx poll naming the list version it holds
    (`GET /profile/referrals/?v=`) gets 204 here when the session's member has that
    same version published: two cache round trips, no database, none of the
    middleware below. It answers only what the view would: for an allowed host
    (else Django's 400), over HTTPS when that is required (else the redirect
    below), for a session no sign-out ended (core/sessions.py's tombstone) and
    carrying the session hash the view last saw for its member (a suspension
    changes it and forgets it). The 204 has no body and tells only the holder of
    that member's session that nothing changed; anything else goes on to the
    view, which checks everything. Goes right after the health check in
    MIDDLEWARE.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.path: str | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.REDIS_URL and request.method == "GET" and self._unchanged(request):
            return HttpResponse(status=204)
        return self.get_response(request)

    def _unchanged(self, request: HttpRequest) -> bool:
        if self.path is None:
            self.path = reverse("profiles:referrals")
        if request.path_info != self.path or request.headers.get("HX-Request") != "true":
            return False
        held = request.GET.get("v")
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        # A page or "Show more" (`before`) is a request for rows, not a poll, even when
        # it carries the list's state (htmx's inherited hx-include sends it along).
        if not held or not session_key or "page" in request.GET or "before" in request.GET:
            return False
        request.get_host()  # DisallowedHost: the 400 CommonMiddleware would give
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return False
        session = session_cached(session_key) or {}
        member_id, session_hash = session.get(SESSION_KEY), session.get(HASH_SESSION_KEY)
        if not member_id or not session_hash:
            return False
        version, member_hash = referrals_version_shared(member_id=member_id)
        return version == held and constant_time_compare(member_hash or "", session_hash)
