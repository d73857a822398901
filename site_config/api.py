"""What every JSON API endpoint shares: the error shape, form-backed fields, the docs.

Every 4xx answer has one shape, `{"code", "detail", "fields"}`, built here and
nowhere else; the schema's error examples are built by the same functions, so
the documentation cannot drift from the answers.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions, serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.fields import empty
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from site_config.errors import DomainError

VALIDATION_DETAIL = _("Some fields are not valid.")
# The answer of any endpoint while the database is unreachable (site_config/outage.py).
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
    """A 503 the domain chose (no SMS can go out now) and has logged in its own words:
    Django's request log would add an ERROR line per request, drowning the one line
    per window an alert is meant to fire on."""
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


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: what Django refuses before DRF runs (a body over the size limit)."""
    if request.path.startswith("/api/"):
        body = error_body(code="bad_request", detail=_("The request could not be read."))
        return JsonResponse(body, status=400)
    return defaults.bad_request(request, exception)


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


class WebFormField(serializers.CharField):
    """A string judged by the web form's own field and clean method: one rule, one message.

    The value the form cleans (an E.164 phone, a normalised invite code) is the
    value the API gets.
    """

    def __init__(self, *, form: type[forms.Form], **kwargs: Any) -> None:
        self.form = form
        super().__init__(**kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        # A missing or blank value is the form's to judge too, so it gets the form's message.
        value = "" if data is empty or data is None else self.to_internal_value(data)
        form = self.form(data={self.field_name: value})
        if not form.is_valid():
            raise serializers.ValidationError(form.errors[self.field_name])
        return form.cleaned_data[self.field_name]


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable reason.")
    detail = serializers.CharField(help_text="A message for people, in the request's language.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per request field; empty unless a field is at fault.",
    )


def error_example(*, code: str, detail: str, fields: dict | None = None) -> OpenApiExample:
    return OpenApiExample(code, value=error_body(code=code, detail=detail, fields=fields))


def domain_error_example(error: DomainError) -> OpenApiExample:
    return OpenApiExample(error.code, value=domain_error_body(error))


def validation_example(field: str, message: str) -> OpenApiExample:
    return error_example(code="invalid", detail=message, fields={field: [message]})


def error_response(description: str, *examples: OpenApiExample) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description, examples=list(examples))


NOT_JSON_EXAMPLE = error_example(code="parse_error", detail="JSON parse error - Expecting value")
UNAUTHORIZED = error_response(
    "No access token, or one that is expired, forged or not an access token.",
    error_example(code="not_authenticated", detail="Authentication credentials were not provided."),
    error_example(code="token_not_valid", detail="Given token not valid for any token type"),
)
UNSUPPORTED_MEDIA_TYPE = error_response(
    "The body is not JSON.",
    error_example(
        code="unsupported_media_type", detail='Unsupported media type "text/plain" in request.'
    ),
)


# Redoc and Swagger UI add <style> elements while they run, which cannot carry the
# page's nonce (and a nonce would switch 'unsafe-inline' off); Redoc builds its
# search worker from a blob. Scripts keep the site's policy: no inline code runs.
DOCS_CSP = {
    **settings.SECURE_CSP,
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "worker-src": [CSP.SELF, "blob:"],
}

# drf-spectacular's page, minus its Google Fonts links: no asset comes from another host.
_REDOC_PAGE = engines["django"].from_string(
    """{% extends "drf_spectacular/redoc.html" %}
{% block head %}<title>{{ title }}</title>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<style>body { margin: 0; padding: 0; }</style>{% endblock head %}"""
)


@csp_override(DOCS_CSP)
@require_GET
def redoc(request: HttpRequest) -> HttpResponse:
    context = {
        "title": settings.SPECTACULAR_SETTINGS["TITLE"],
        "redoc_standalone": static("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"),
        "schema_url": reverse("api-schema"),
    }
    return HttpResponse(_REDOC_PAGE.render(context, request))


# The split view serves Swagger UI's start-up code as a script file, not inline.
swagger = csp_override(DOCS_CSP)(SpectacularSwaggerSplitView.as_view(url_name="api-schema"))

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", redoc, name="api-redoc"),
    path("docs/swagger/", swagger, name="api-swagger"),
]


def document_service_unavailable(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook: every operation may answer 503 (SPEC.md).

    While the database is unreachable any endpoint answers 503 in the error shape
    with Retry-After (site_config/outage.py); the schema says so once, here, and
    adds the example to a 503 an endpoint documents for reasons of its own.
    """
    example = {
        "summary": "service_unavailable",
        "value": error_body(code="service_unavailable", detail=SERVICE_UNAVAILABLE_DETAIL),
    }
    retry_after = {
        "description": "Seconds to wait before sending the request again.",
        "schema": {"type": "integer"},
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            answer = operation["responses"].setdefault(
                "503",
                {
                    "description": "The database is unreachable: send the request again "
                    "after Retry-After seconds.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            )
            content = answer.setdefault("content", {}).setdefault("application/json", {})
            content.setdefault("schema", {"$ref": "#/components/schemas/Error"})
            content.setdefault("examples", {})["service_unavailable"] = example
            answer.setdefault("headers", {}).setdefault("Retry-After", retry_after)
    return result
