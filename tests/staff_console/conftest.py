from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from auth_flow.models import Challenge
from core.staff import PASSWORD_BACKEND
from profiles.models import User

STAFF_PASSWORD = "a-long-operator-password"


def staff_with(phone: str, *codenames: str) -> User:
    """Staff with these permissions (codenames of profiles, or `app.codename`)."""
    user = User.objects.create_user(phone, STAFF_PASSWORD, is_staff=True)
    for codename in codenames:
        app, _, name = codename.rpartition(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app or "profiles", codename=name)
        )
    return user


@pytest.fixture
def operator(db: None) -> User:
    """An operator who may see and change members (export, suspend) and judge fraud
    flags, not a superuser."""
    return staff_with("+79990000001", "view_user", "change_user", "fraud.change_fraudflag")


@pytest.fixture
def plain_staff(db: None) -> User:
    """Staff with no permission at all: the console's figures, nothing more."""
    return staff_with("+79990000002")


@pytest.fixture
def staff_client(client: Client, operator: User) -> Client:
    """A staff member signed in with their password, as the console requires (the
    session records the password backend; the form itself is tested in test_views)."""
    client.force_login(operator, backend=PASSWORD_BACKEND)
    return client


@pytest.fixture
def challenge_at() -> Callable[..., Challenge]:
    def make(
        *, at: datetime | None = None, provider: str = "", used: bool = False, **extra: Any
    ) -> Challenge:
        at = at or timezone.now() - timedelta(minutes=1)
        return Challenge.objects.create(
            phone=extra.pop("phone", "+79991112233"),
            ip="203.0.113.5",
            code_hash="0" * 64,
            state=Challenge.State.USED if used else Challenge.State.PENDING,
            attempts_left=3,
            created_at=at,
            expires_at=at + timedelta(minutes=5),
            used_at=at + timedelta(seconds=20) if used else None,
            provider=provider,
            **extra,
        )

    return make
