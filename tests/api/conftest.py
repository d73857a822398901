from typing import Any

from rest_framework.response import Response


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
