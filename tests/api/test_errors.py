"""Whatever the body, the API answers a 4xx in the one error shape, never a 5xx."""

import json

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db

POST_ENDPOINTS = [
    "/api/v1/auth/code/",
    "/api/v1/auth/token/",
    "/api/v1/auth/token/refresh/",
    "/api/v1/auth/logout/",
    "/api/v1/profile/invite/",
]

BAD_BODIES = [
    "{",
    '{"phone": }',
    "[]",
    '["+79991234567"]',
    "null",
    '"text"',
    "42",
    '{"phone": {"a": 1}, "code": [1], "refresh": true, "invite_code": {}}',
    '{"phone": null, "code": null, "refresh": null, "invite_code": null}',
    '{"phone": "\\u0000", "code": "\\u0000", "refresh": "\\u0000", "invite_code": "\\u0000"}',
    '{"phone": "\\ud800", "code": "\\udfff", "refresh": "\\ud800", "invite_code": "\\ud800"}',
    json.dumps({field: "я" * 100_000 for field in ("phone", "code", "refresh", "invite_code")}),
    json.dumps(
        {"phone": "+7 ９９９ １２３-４５-６７", "code": "١٢٣٤", "invite_code": "ＡＢＣ２３４"}
    ),
    json.dumps({"phone": 79991234567, "code": 1234, "invite_code": 123456, "refresh": 1.5}),
]


@pytest.fixture
def client(member_api) -> APIClient:
    # Signed in, so the member endpoints judge the body too.
    return member_api()


@pytest.mark.parametrize("url", POST_ENDPOINTS)
@pytest.mark.parametrize("body", BAD_BODIES)
def test_odd_body_is_never_a_5xx_and_errors_keep_the_shape(client: APIClient, url: str, body: str):
    # Some odd bodies are fine: full-width digits and a JSON number are a phone too.
    response = client.post(url, body, content_type="application/json")
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert_error(response, response.status_code, response.json()["code"])


@pytest.mark.parametrize("url", POST_ENDPOINTS)
def test_malformed_json_is_parse_error(client: APIClient, url: str):
    response = client.post(url, "{", content_type="application/json")
    assert_error(response, 400, "parse_error")


@pytest.mark.parametrize("url", POST_ENDPOINTS)
def test_non_json_body_is_unsupported_media_type(client: APIClient, url: str):
    response = client.post(url, "phone=1", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


def test_non_object_body_is_a_validation_error(client: APIClient):
    response = client.post("/api/v1/auth/code/", "[]", content_type="application/json")
    assert_error(response, 400, "invalid", field="non_field_errors")


def test_wrong_method_is_method_not_allowed(client: APIClient):
    response = client.get("/api/v1/auth/code/")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]
