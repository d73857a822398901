"""Error pages (400, 403, 404, 500, a failed CSRF check) in the site's layout.

A page in the visitor's language, as wide as their screen, with a way home and
support's address; under /api/ the API's one JSON error shape instead. Django
calls these as handler400/403/404 (site_config/urls.py), CSRF_FAILURE_VIEW and,
for an error that is not a database outage, core.outage.server_error.
"""

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from core.api.errors import error_body

ERROR_PAGE = "error.html"

_PAGES = {
    400: (
        "bad_request",
        _("This request could not be read"),
        _(
            "Something in the address or the form was not what we expected. "
            "Go back and try again, or start over from the home page."
        ),
        _("The request could not be read."),
    ),
    403: (
        "permission_denied",
        _("This page is not for you"),
        _(
            "You do not have access to this page. "
            "If you were signed in, your session may have ended."
        ),
        _("You do not have permission to perform this action."),
    ),
    404: (
        "not_found",
        _("Page not found"),
        _("There is nothing at this address. The link may be old or mistyped."),
        _("Not found."),
    ),
    500: (
        "server_error",
        _("Something went wrong on our side"),
        _("We have been told and are looking into it. Please try again in a minute."),
        _("Something went wrong on our side."),
    ),
}
CSRF_PAGE = (
    "csrf_failed",
    _("This form has expired"),
    _(
        "For your safety the form could not be sent: it was open too long, or cookies are "
        "blocked. Go back, reload the page and send it again."
    ),
    _("CSRF check failed. Send the token from the csrftoken cookie."),
)


def _answer(
    request: HttpRequest, status: int, page: tuple, *, anonymous: bool = False
) -> HttpResponse:
    code, title, message, api_detail = page
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code=code, detail=api_detail), status=status)
    if anonymous:
        # After an unexpected error nothing more may touch the database (the
        # header's sign-out button would read the session and the member).
        request.user = AnonymousUser()
    context = {"status": status, "error_code": code, "title": title, "message": message}
    return render(request, ERROR_PAGE, context, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _answer(request, 400, _PAGES[400])


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _answer(request, 403, _PAGES[403])


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _answer(request, 404, _PAGES[404])


def server_error(request: HttpRequest) -> HttpResponse:
    return _answer(request, 500, _PAGES[500], anonymous=True)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _answer(request, 403, CSRF_PAGE)
