"""Staff edit the program in the admin with a permission of its own."""

import pytest
from django.contrib.auth.models import Permission

from core.staff import PASSWORD_BACKEND
from profiles.models import User
from rewards.models import Program

pytestmark = pytest.mark.django_db


def staff(phone: str, *codenames: str) -> User:
    user = User.objects.create_user(phone, "a-long-operator-password", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="rewards", codename__in=codenames)
    )
    return user


FORM = {
    "active": "on",
    "referrer_amount": "100",
    "friend_amount": "50",
    "milestones": "10=2000, 3=500",
    "unit": "points",
    "hold_days": "14",
    "monthly_cap": "5",
    "total_cap": "",
}


def test_staff_with_the_program_permission_set_it_in_the_admin(client):
    client.force_login(staff("+79990000101", "add_program", "change_program", "view_program"),
                       backend=PASSWORD_BACKEND)  # fmt: skip
    response = client.post("/admin/rewards/program/add/", FORM)
    assert response.status_code == 302, response.content.decode()[:2000]
    program = Program.objects.get()
    assert program.milestones == [
        {"referrals": 3, "amount": 500},
        {"referrals": 10, "amount": 2000},
    ]
    assert (program.monthly_cap, program.total_cap) == (5, None)
    page = client.get(f"/admin/rewards/program/{program.pk}/change/")
    assert "3=500, 10=2000" in page.content.decode()


def test_staff_without_it_cannot(client):
    client.force_login(staff("+79990000102"), backend=PASSWORD_BACKEND)
    assert client.post("/admin/rewards/program/add/", FORM).status_code == 403
    assert Program.objects.count() == 0


def test_a_bad_milestone_is_a_form_error(client):
    client.force_login(staff("+79990000103", "add_program"), backend=PASSWORD_BACKEND)
    response = client.post("/admin/rewards/program/add/", {**FORM, "milestones": "3:500"})
    assert response.status_code == 200
    assert "3=500, 10=2000" in response.content.decode()
    assert Program.objects.count() == 0
