from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from profiles.models import User


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def member_api(make_member: Callable[..., User]) -> Callable[..., APIClient]:
    """A client signed in as `member` (a new one if not given) with a fresh access token."""

    def sign_in(member: User | None = None) -> APIClient:
        client = APIClient()
        token = RefreshToken.for_user(member or make_member()).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return sign_in


def assert_error(response: Response, status: int, code: str, *, field: str | None = None) -> Any:
    """The one error shape: returns the body for further checks."""
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"code", "detail", "fields"}
    assert body["code"] == code
    assert body["detail"]
    if field is not None:
        assert body["fields"][field], body
    return body
