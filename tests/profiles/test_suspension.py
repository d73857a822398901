"""A suspension ends every session opened before it, even once the member is let
back in; who may suspend whom."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from core.staff import PHONE_CODE_BACKEND
from profiles.errors import SuspendNotAllowed, SuspendStaffAccount
from profiles.models import User
from profiles.services import member_suspend

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-operator-password"


def staff(phone: str, *codenames: str, **fields: object) -> User:
    user = User.objects.create_user(phone, PASSWORD, is_staff=True, **fields)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="profiles", codename__in=codenames)
    )
    return user


@pytest.fixture
def operator() -> User:
    return staff("+79990000001", "change_user")


def test_suspension_ends_sessions_for_good(client, operator, make_member):
    member = make_member()
    client.force_login(member, backend=PHONE_CODE_BACKEND)
    assert client.get("/profile/").status_code == 200

    member_suspend(member=member, by=operator)
    assert client.get("/profile/").status_code == 302

    member.refresh_from_db()
    member.is_active = True  # the admin's "active" checkbox
    member.save()
    response = client.get("/profile/")
    assert response.status_code == 302, "the pre-suspension session works again"

    fresh = Client()
    fresh.force_login(member, backend=PHONE_CODE_BACKEND)
    assert fresh.get("/profile/").status_code == 200


def test_a_second_suspension_ends_sessions_opened_after_the_first(client, operator, make_member):
    member = make_member()
    member_suspend(member=member, by=operator)
    User.objects.filter(pk=member.pk).update(is_active=True)
    member.refresh_from_db()
    client.force_login(member, backend=PHONE_CODE_BACKEND)
    assert client.get("/profile/").status_code == 200

    member_suspend(member=member, by=operator)
    User.objects.filter(pk=member.pk).update(is_active=True)

    assert client.get("/profile/").status_code == 302


def test_suspending_needs_the_change_permission(make_member):
    plain = staff("+79990000002")
    member = make_member()
    with pytest.raises(SuspendNotAllowed):
        member_suspend(member=member, by=plain)
    member.refresh_from_db()
    assert member.is_active and member.suspended_at is None


def test_only_a_superuser_suspends_staff(operator):
    boss = User.objects.create_superuser("+79990000009", PASSWORD)
    colleague = staff("+79990000003")
    for target in (boss, colleague):
        with pytest.raises(SuspendStaffAccount):
            member_suspend(member=target, by=operator)
        target.refresh_from_db()
        assert target.is_active
    assert not member_suspend(member=colleague, by=boss).is_active


def test_refusals_speak_russian_too():
    from django.utils import translation

    with translation.override("ru"):
        assert "суперпользователь" in str(SuspendStaffAccount().message)
        assert "права" in str(SuspendNotAllowed().message)
