"""The OpenAPI schema and the ReDoc / Swagger UI pages built from it."""

import re
from pathlib import Path

import pytest
import schemathesis
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("post", "/api/v1/auth/code/"),
    ("post", "/api/v1/auth/token/"),
    ("post", "/api/v1/auth/token/refresh/"),
    ("post", "/api/v1/auth/logout/"),
    ("get", "/api/v1/profile/"),
    ("delete", "/api/v1/profile/"),
    ("get", "/api/v1/profile/export/"),
    ("post", "/api/v1/profile/invite/"),
    ("get", "/api/v1/profile/referrals/"),
    ("get", "/api/v1/rewards/"),
    ("get", "/api/v1/operator/members/"),
    ("get", "/api/v1/operator/rewards/"),
    ("post", "/api/v1/operator/rewards/{id}/fulfil/"),
}
DOCS_PAGES = ["/api/docs/", "/api/docs/swagger/", "/api/docs/swagger/?script="]
URL = re.compile(r"""https?://[^\s"'<>)]+""")


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        return yaml.safe_load(Client().get("/api/schema/").content)


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def test_schema_passes_drf_spectacular_validation_without_warnings(tmp_path: Path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yaml")


def test_schema_loads_in_schemathesis_as_openapi_3(schema: dict):
    assert schema["openapi"].startswith("3.")
    loaded = schemathesis.openapi.from_dict(schema)
    labels = {result.ok().label for result in loaded.get_all_operations()}
    assert labels == {f"{method.upper()} {path}" for method, path in OPERATIONS}


def test_schema_documents_every_endpoint(schema: dict):
    assert {(method, path) for method, path, _ in operations(schema)} == OPERATIONS


def test_every_operation_has_a_tag_a_summary_and_examples(schema: dict):
    for method, path, operation in operations(schema):
        assert operation["tags"], (method, path)
        assert operation["summary"], (method, path)
        if "requestBody" in operation:
            assert operation["requestBody"]["content"]["application/json"]["examples"], path
        for status, response in operation["responses"].items():
            if status == "204":
                continue
            content = response["content"]["application/json"]
            assert content.get("examples"), (method, path, status)


def test_every_error_answer_uses_the_error_shape(schema: dict):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "detail", "fields"}
    for method, path, operation in operations(schema):
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (method, path, status)


def test_every_error_code_is_documented(schema: dict):
    text = yaml.safe_dump(schema)
    for code in [
        "invite_not_found",
        "invite_own_code",
        "invite_already_activated",
        "invite_cycle",
        "code_invalid",
        "code_expired",
        "code_attempts_exhausted",
        "code_used",
        "code_replaced",
        "code_not_requested",
        "account_disabled",
        "resend_cooldown",
        "phone_hourly_limit",
        "phone_daily_limit",
        "ip_hourly_limit",
        "not_authenticated",
        "token_not_valid",
        "invalid",
        "parse_error",
    ]:
        assert f"code: {code}\n" in text, code


def test_code_request_documents_429_with_retry_after(schema: dict):
    answer = schema["paths"]["/api/v1/auth/code/"]["post"]["responses"]["429"]
    assert "Retry-After" in answer["headers"]


def test_sign_in_documents_the_challenge_and_the_device_token(schema: dict):
    bodies = schema["components"]["schemas"]
    assert "challenge" in bodies["SignInRequest"]["required"]
    assert "challenge" in bodies["CodeSent"]["required"]
    assert "device_token" in bodies["TokenPair"]["required"]
    assert {"device_token", "challenge"} <= set(bodies["SendCodeRequest"]["properties"])
    assert "403" in schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]


def test_member_endpoints_require_the_jwt_scheme(schema: dict):
    assert schema["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"
    for _method, path, operation in operations(schema):
        if path.startswith("/api/v1/profile/"):
            assert operation["security"] == [{"jwtAuth": []}]


@pytest.mark.parametrize("page", DOCS_PAGES)
def test_docs_pages_load_nothing_from_another_host(client: Client, page: str):
    response = client.get(page)
    assert response.status_code == 200
    text = response.content.decode()
    assert URL.findall(text) == []
    for asset in re.findall(r"""(?:src|href)="([^"]+)\"""", text):
        if asset.startswith("/static/"):
            assert finders.find(asset.removeprefix("/static/")), asset


@pytest.mark.parametrize("page", DOCS_PAGES[:2])
def test_docs_pages_keep_a_strict_policy_for_scripts(client: Client, page: str):
    policy = client.get(page)["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert "http" not in policy


def test_the_rest_of_the_site_keeps_nonce_styles(client: Client):
    policy = client.get("/")["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy
