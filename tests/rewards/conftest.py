from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from fraud.models import JudgingMark
from profiles.models import User
from profiles.services import invite_activate
from rewards.models import Program
from rewards.services import program_set


@pytest.fixture
def program(db: None) -> Callable[..., Program]:
    """Set the program for a test: 100 per referral, 50 for the friend, no hold."""

    def make(**changes: Any) -> Program:
        settings = {
            "referrer_amount": 100,
            "friend_amount": 50,
            "unit": "points",
            "hold_days": 0,
            "milestones": {},
            "monthly_cap": None,
            "total_cap": None,
        }
        return program_set(**{**settings, **changes})

    return make


@pytest.fixture
def activate() -> Callable[[User, User], User]:
    """`member` enters `inviter`'s code, as the profile's form does."""

    def run(member: User, inviter: User) -> User:
        return invite_activate(user=User.objects.get(pk=member.pk), code=inviter.invite_code)

    return run


@pytest.fixture
def judged(db: None) -> Callable[..., None]:
    """Say the fraud judging has read every activation up to now (plus `ahead`)."""

    def mark(ahead: timedelta = timedelta(seconds=1)) -> None:
        JudgingMark.objects.update_or_create(
            name="fraud_flags", defaults={"scanned_to": timezone.now() + ahead, "last_pk": 0}
        )

    return mark
