"""Reads of sign-in challenges."""

import math
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from auth_flow.models import Challenge


def challenge_resend_in(*, phone: str) -> int:
    """Seconds until `phone` may ask for another code (0: now)."""
    latest = (
        Challenge.objects.filter(phone=phone)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if latest is None:
        return 0
    wait = latest + timedelta(seconds=settings.OTP_RESEND_COOLDOWN) - timezone.now()
    return max(0, math.ceil(wait.total_seconds()))
