"""Staff pages open only to a password sign-in: a 4-digit phone code never reaches the admin."""

import pytest

from auth_flow.models import Challenge
from auth_flow.services import challenge_issue
from profiles.models import User

PASSWORD = "a-long-operator-password"


@pytest.fixture
def superuser():
    return User.objects.create_superuser("+79990000001", PASSWORD)


def _sign_in_by_code(client, outbox, phone):
    client.post("/auth/phone/", {"phone": phone})
    code = outbox[-1].code
    response = client.post("/auth/code/", {"code": code})
    assert response.status_code == 302


@pytest.mark.django_db
def test_superuser_signed_in_by_phone_code_gets_the_admin_login_form(client, outbox, superuser):
    _sign_in_by_code(client, outbox, str(superuser.phone))
    assert client.get("/profile/").status_code == 200

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    login_page = client.get(response["Location"])
    assert 'name="password"' in login_page.content.decode()


@pytest.mark.django_db
def test_superuser_with_password_reaches_the_admin(client, superuser):
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": str(superuser.phone), "password": PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302

    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/auth_flow/challenge/").status_code == 200


@pytest.mark.django_db
def test_phone_code_then_password_upgrades_the_session_to_staff(client, outbox, superuser):
    _sign_in_by_code(client, outbox, str(superuser.phone))
    client.post(
        "/admin/login/?next=/admin/",
        {"username": str(superuser.phone), "password": PASSWORD, "next": "/admin/"},
    )
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_code_sign_in_of_a_member_still_works_after_the_backend_split(client, outbox):
    challenge_issue(phone="+79995550101", ip="127.0.0.1")
    assert Challenge.objects.count() == 1
    _sign_in_by_code(client, outbox, "+79995550102")
    assert client.get("/profile/").status_code == 200
