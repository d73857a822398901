"""OpenAPI helpers: the error schema, its examples, and the 503 every operation may answer."""

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers

from core.api.errors import SERVICE_UNAVAILABLE_DETAIL, domain_error_body, error_body
from core.errors import DomainError


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


def document_service_unavailable(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook: every operation may answer 503 .

    While the database is unreachable any endpoint answers 503 in the error shape
    with Retry-After (core/outage.py); the schema says so once, here, and
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
