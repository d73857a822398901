"""The referrals poll, answered before the rest of the stack when nothing changed."""

from collections.abc import Callable
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from profiles.selectors import referrals_version_shared


class ReferralsPollMiddleware:
    """Every open profile polls its referrals every 5 s: an unchanged poll costs next to nothing.

    With a shared cache (REDIS_URL), an htmx poll naming the list version it holds
    (`GET /profile/referrals/?v=`) gets 204 here when the session's member has that
    same version published: two cache reads, no database, none of the middleware
    below. The 204 has no body and tells only the holder of that member's session
    that nothing changed; a signed-out session, any other version or any other
    request goes on to the view, which checks everything. Goes right after the
    health check in MIDDLEWARE.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.sessions = import_module(settings.SESSION_ENGINE).SessionStore
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
        if not held or not session_key or "page" in request.GET:
            return False
        member_id = self.sessions(session_key).get(SESSION_KEY)
        return bool(member_id) and referrals_version_shared(member_id=member_id) == held
