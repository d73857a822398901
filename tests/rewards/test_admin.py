"""Staff edit the program in the admin with a permission of its own."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone, translation

from core.staff import PASSWORD_BACKEND
from profiles.models import User
from rewards.models import Grant, Program

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


CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


def test_every_label_of_the_program_and_the_ledger_is_in_russian():
    """Field names, help texts, kinds, states and void reasons, as the admin and the
    console show them (they were left in English: fuzzy or missing in the catalogue)."""
    with translation.override("ru"):
        labels = {
            f"{model.__name__}.{what}": str(label)
            for model in (Program, Grant)
            for what, label in [
                ("verbose_name", model._meta.verbose_name),
                ("verbose_name_plural", model._meta.verbose_name_plural),
                *((f.name, f.verbose_name) for f in model._meta.fields if f.name != "id"),
                *((f"{f.name} help", f.help_text) for f in model._meta.fields if f.help_text),
            ]
        }
        for choices in (Grant.Kind, Grant.State, Grant.VoidReason):
            labels |= {f"{choices.__name__}.{key}": str(label) for key, label in choices.choices}
    assert {what: label for what, label in labels.items() if not CYRILLIC.search(label)} == {}


def test_the_grant_list_in_the_admin_speaks_russian(client, program, activate):
    program()
    activate(User.objects.create_user("+79990000105"), User.objects.create_user("+79990000106"))
    Grant.objects.filter(kind="referrer").update(
        state="voided", reason="cap", voided_at=timezone.now()
    )
    client.force_login(staff("+79990000104", "view_grant"), backend=PASSWORD_BACKEND)
    html = client.get("/admin/rewards/grant/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    for shown in ("вознаграждения", "за приглашённого", "за вход по коду", "сверх лимита"):
        assert shown in html
    assert "over the cap" not in html
    voided = Grant.objects.get(kind="referrer")
    page = client.get(f"/admin/rewards/grant/{voided.pk}/change/", HTTP_ACCEPT_LANGUAGE="ru")
    assert "за приглашённого 100 points аннулировано" in page.content.decode()
