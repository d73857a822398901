"""Inputs and races at the edges of the API: each gets an answer in the error shape."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.api.conftest import assert_error
from tests.conftest import run_in_parallel


@pytest.mark.django_db
def test_json_nested_too_deeply_is_a_parse_error(api):
    response = api.post(
        "/api/v1/auth/code/", "[" * 10_000 + "]" * 10_000, content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/nowhere/"), ("post", "/api/v1/auth/code"), ("get", "/api/v2/profile/")],
)
def test_unknown_api_paths_are_404_in_the_error_shape(api, method, path):
    assert_error(getattr(api, method)(path), 404, "not_found")


@pytest.mark.django_db
def test_a_body_over_the_size_limit_is_400_in_the_error_shape(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"phone": "' + "9" * 4096 + '"}'
    response = api.post("/api/v1/auth/code/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_refresh_token_is_spent_once_under_parallel_refreshes(make_member):
    refresh = str(RefreshToken.for_user(make_member()))

    def spend() -> int:
        return (
            APIClient()
            .post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")
            .status_code
        )

    statuses = run_in_parallel([spend] * 8)
    assert sorted(statuses) == [200] + [401] * 7, statuses


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refresh_racing_a_logout_cannot_outlive_it(make_member):
    refresh = str(RefreshToken.for_user(make_member()))

    def logout() -> int:
        return (
            APIClient()
            .post("/api/v1/auth/logout/", {"refresh": refresh}, format="json")
            .status_code
        )

    def spend() -> int:
        return (
            APIClient()
            .post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")
            .status_code
        )

    statuses = run_in_parallel([logout, spend, spend, spend])
    assert sum(status in (200, 204) for status in statuses) == 1, statuses
