"""Input PostgreSQL cannot store: a NUL byte in a query or form value is a 400 for every view.

PostgreSQL refuses NUL in text (psycopg raises DataError), so a NUL that reaches
a query, a filter or a write is a 500 wherever a view forgot to look: the admin's
list filters (`?state__exact=%00`), a signed Twilio callback, any form. No
field, phone, code or token of this service contains one, so the request is
refused here, once, before any view: Django's 400 (the API's error shape under
/api/, core/api/errors.py's handler400).
"""

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, QueryDict

FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def _has_nul(data: QueryDict) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in data.lists()
    )


class NulInputMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request.GET) or (
            request.method == "POST"
            and request.content_type in FORM_TYPES
            and _has_nul(request.POST)
        ):
            raise BadRequest("a NUL byte in a query or form value")
        return self.get_response(request)
