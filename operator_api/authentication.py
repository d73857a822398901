"""`Authorization: Api-Key <key>` for the business's own systems.

Keys come from djangorestframework-api-key: shown once when created, stored only
as a hash (SHA-512 of a 32-character random secret), found by their public
prefix, revocable, optionally expiring. A wrong, revoked or expired key is a 401
`api_key_invalid` (an authentication, not a permission, failure: the client must
change what it sends).
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework_api_key.models import APIKey
from rest_framework_api_key.permissions import KeyParser

KEYWORD = KeyParser.keyword


class ApiKeyInvalid(exceptions.AuthenticationFailed):
    default_detail = _("The API key is missing, wrong or revoked.")
    default_code = "api_key_invalid"


class ApiKeyAuthentication(BaseAuthentication):
    """request.auth is the APIKey; there is no user (UNAUTHENTICATED_USER is None)."""

    parser = KeyParser()

    def authenticate(self, request: Request) -> tuple[Any, APIKey]:
        key = self.parser.get(request._request)
        if not key or len(key) > 200:
            raise ApiKeyInvalid()
        try:
            api_key = APIKey.objects.get_from_key(key)
        except APIKey.DoesNotExist as error:
            raise ApiKeyInvalid() from error
        if api_key.has_expired:
            raise ApiKeyInvalid()
        return (None, api_key)

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (with WWW-Authenticate), not 403.
        return KEYWORD


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme for these endpoints (drf-spectacular)."""

    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`, from `python manage.py operator_key create NAME`.",
        }
