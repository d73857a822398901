"""The API's one error shape, `{"code", "detail", "fields"}`, built here and nowhere else.

The schema's error examples (core/api/schema.py) are built by the same functions,
so the documentation cannot drift from the answers.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError

VALIDATION_DETAIL = _("Some fields are not valid.")
# The answer of any endpoint while the database is unreachable (core/outage.py).
SERVICE_UNAVAILABLE_DETAIL = _(
    "The service is briefly unavailable. Please try again in a few seconds."
)


def error_body(*, code: str, detail: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"code": code, "detail": str(detail), "fields": fields or {}}


def domain_error_body(error: DomainError) -> dict:
    message = str(error.message)
    fields = {error.field: [message]} if error.field else {}
    return error_body(code=error.code, detail=message, fields=fields)


def expected_outage(response: HttpResponse) -> HttpResponse:
    """A 503 the code chose (no SMS can go out now, the database is down) and has
    logged in its own words: Django's request log would add an ERROR line per
    request, drowning the one line per window an alert is meant to fire on."""
    response._has_been_logged = True  # type: ignore[attr-defined] - django.utils.log's flag
    return response


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, answering every error in the one shape (REST_FRAMEWORK setting)."""
    if isinstance(exc, DomainError):
        response = Response(domain_error_body(exc), status=exc.status)
        if exc.retry_after is not None:
            response["Retry-After"] = str(exc.retry_after)
        return expected_outage(response) if exc.status >= 500 else response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    # DRF adds the headers (WWW-Authenticate, Retry-After, Allow); anything that is
    # not an APIException stays a 500 on purpose: it is a bug to see, not an input error.
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        response.data = _api_exception_body(exc)
    return response


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@authentication_classes([])
@permission_classes([AllowAny])
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> Response:
    """Any other URL under /api/: a 404 in the API's shape (and no slash redirect)."""
    raise exceptions.NotFound()


def _api_exception_body(exc: exceptions.APIException) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = {str(name): _messages(errors) for name, errors in detail.items()}
        first = next((messages[0] for messages in fields.values() if messages), VALIDATION_DETAIL)
        return error_body(code="invalid", detail=first, fields=fields)
    if isinstance(exc.detail, dict):
        # simplejwt's errors carry a dict: detail, code (and messages per token type).
        code = str(exc.detail.get("code", exc.default_code))
        return error_body(code=code, detail=exc.detail.get("detail", exc.default_detail))
    codes = exc.get_codes()
    return error_body(code=codes if isinstance(codes, str) else exc.default_code, detail=exc.detail)


def _messages(errors: Any) -> list[str]:
    if isinstance(errors, dict):
        return [message for value in errors.values() for message in _messages(value)]
    if isinstance(errors, list):
        return [message for value in errors for message in _messages(value)]
    return [str(errors)]
