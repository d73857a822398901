"""With the database unreachable every answer is a 503 with Retry-After, never a 500.

Every query here fails as a refused connection does (Django's own hook for
wrapping queries); the real outage, a PostgreSQL cluster stopped under a
running server, is tests/deploy/test_outage.py.
"""

from collections.abc import Iterator

import pytest
from django.db import OperationalError, ProgrammingError, connection
from django.test import Client


def _refuse(execute, sql, params, many, context):
    raise OperationalError("connection refused")


@pytest.fixture
def anyone() -> Client:
    # The answer a browser gets, not the exception the test client would re-raise.
    return Client(raise_request_exception=False)


@pytest.fixture
def database_down() -> Iterator[None]:
    with connection.execute_wrapper(_refuse):
        yield


@pytest.mark.django_db
def test_api_answers_503_in_the_error_shape_with_retry_after(anyone, database_down):
    response = anyone.post(
        "/api/v1/auth/code/", {"phone": "+79990002001"}, content_type="application/json"
    )

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert "unavailable" in body["detail"]


@pytest.mark.django_db
def test_phone_form_comes_back_with_the_typed_phone_and_a_notice(anyone, database_down):
    response = anyone.post("/auth/phone/", {"phone": "+7 999 000-20-02"})

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    assert 'value="+7 999 000-20-02"' in page
    assert "briefly unavailable" in page


@pytest.mark.django_db
def test_outage_page_is_in_russian_for_a_russian_browser(anyone, database_down):
    response = anyone.post("/auth/phone/", {"phone": "+79990002003"}, HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 503
    assert "Сервис ненадолго недоступен" in response.content.decode()


@pytest.mark.django_db
def test_code_form_keeps_the_typed_code(anyone):
    anyone.post("/auth/phone/", {"phone": "+79990002004"})
    with connection.execute_wrapper(_refuse):
        response = anyone.post("/auth/code/", {"code": "1234"})

    assert response.status_code == 503
    page = response.content.decode()
    assert 'name="code"' in page
    assert 'value="1234"' in page
    assert 'action="/auth/code/"' in page


@pytest.mark.django_db
def test_a_signed_in_member_keeps_the_session_through_the_outage(anyone, outbox):
    anyone.post("/auth/phone/", {"phone": "+79990002005"})
    anyone.post("/auth/code/", {"code": outbox[-1].code})
    with connection.execute_wrapper(_refuse):
        during = anyone.get("/profile/")

    assert during.status_code == 503
    assert "sessionid" not in during.cookies  # not deleted, not replaced
    assert anyone.get("/profile/").status_code == 200


@pytest.mark.django_db
def test_an_htmx_poll_during_the_outage_leaves_the_page_as_it_is(anyone, outbox):
    anyone.post("/auth/phone/", {"phone": "+79990002007"})
    anyone.post("/auth/code/", {"code": outbox[-1].code})
    with connection.execute_wrapper(_refuse):
        response = anyone.get("/profile/referrals/", HTTP_HX_REQUEST="true")

    assert response.status_code == 503
    assert response["HX-Reswap"] == "none"


def _broken(execute, sql, params, many, context):
    raise ProgrammingError("column does not exist")


@pytest.mark.django_db
def test_a_bug_in_a_query_is_still_a_500(anyone):
    with connection.execute_wrapper(_broken):
        response = anyone.post("/auth/phone/", {"phone": "+79990002006"})

    assert response.status_code == 500
    assert "Retry-After" not in response


@pytest.mark.django_db
def test_the_schema_documents_the_503_on_every_operation(client):
    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)

    operations = [
        (method, path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
    assert operations
    for method, path, operation in operations:
        answer = operation["responses"]["503"]
        assert "Retry-After" in answer["headers"], (method, path)
        content = answer["content"]["application/json"]
        assert content["schema"]["$ref"] == "#/components/schemas/Error"
        example = content["examples"]["service_unavailable"]["value"]
        assert example["code"] == "service_unavailable", (method, path)
