"""Being staff opens the console's figures; exporting members and suspending them
need the model permissions, and only a superuser suspends staff."""

import ast
from pathlib import Path

import pytest
from django.test import Client

from core.staff import PASSWORD_BACKEND
from fraud.tasks import flags_judge
from profiles.errors import SuspendNotAllowed, SuspendStaffAccount
from profiles.models import User
from profiles.services import member_suspend
from tests.staff_console.conftest import STAFF_PASSWORD

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend=PASSWORD_BACKEND)
    return client


@pytest.fixture
def boss() -> User:
    return User.objects.create_superuser("+79990000009", STAFF_PASSWORD)


def test_plain_staff_sees_the_figures_but_not_the_export(plain_staff):
    client = signed_in(plain_staff)
    for url in ("/staff/", "/staff/flags/"):
        response = client.get(url)
        assert response.status_code == 200
        assert "/staff/export.csv" not in response.content.decode()
    assert client.get("/staff/export.csv").status_code == 403


def test_operator_with_view_permission_exports(staff_client):
    assert "/staff/export.csv" in staff_client.get("/staff/").content.decode()
    response = staff_client.get("/staff/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")


def test_anonymous_export_goes_to_the_staff_sign_in(client):
    response = client.get("/staff/export.csv")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/staff/export.csv")


def test_plain_staff_cannot_suspend_a_member_or_a_superuser(plain_staff, member_at, boss):
    client = signed_in(plain_staff)
    member = member_at()
    for target in (member, boss):
        assert client.post(f"/staff/members/{target.pk}/suspend/").status_code == 403
        target.refresh_from_db()
        assert target.is_active and target.suspended_at is None
    with pytest.raises(SuspendNotAllowed):
        member_suspend(member=member, by=plain_staff)


def test_operator_suspends_a_member_but_not_staff(staff_client, operator, member_at, boss):
    member = member_at()
    colleague = User.objects.create_user("+79990000003", STAFF_PASSWORD, is_staff=True)

    assert staff_client.post(f"/staff/members/{member.pk}/suspend/").status_code == 303
    member.refresh_from_db()
    assert not member.is_active

    for target in (boss, colleague):
        response = staff_client.post(f"/staff/members/{target.pk}/suspend/")
        assert response.status_code == 403
        assert "superuser" in response.content.decode()
        target.refresh_from_db()
        assert target.is_active and target.suspended_at is None
    with pytest.raises(SuspendStaffAccount):
        member_suspend(member=boss, by=operator)


def test_superuser_suspends_staff(boss, operator):
    client = signed_in(boss)
    assert client.post(f"/staff/members/{operator.pk}/suspend/").status_code == 303
    operator.refresh_from_db()
    assert not operator.is_active and operator.suspended_at


def test_suspend_button_only_for_operators_who_may_suspend(plain_staff, staff_client, member_at):
    inviter = member_at()
    for n in range(3):
        member_at(phone=f"+7999555130{n}", inviter=inviter)
    flags_judge()
    assert "/suspend/" in staff_client.get("/staff/flags/").content.decode()
    assert "/suspend/" not in signed_in(plain_staff).get("/staff/flags/").content.decode()


def test_profiles_does_not_import_the_console():
    # profiles sits below staff_console: the console may use it, never the reverse.
    for path in Path("profiles").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            assert not any(n.split(".")[0] == "staff_console" for n in names), path
