"""Reads of sign-in challenges."""

import math
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from auth_flow.models import Challenge


def challenge_resend_in(*, phone: str, device: str = "") -> int:
    """Seconds until this requester may ask for another code for `phone` (0: now).

    `device` is the requester's device hash (auth_flow.devices.device_token_verify), blank
    for a stranger: the cooldown runs per pool, as the limits do.
    """
    latest = (
        Challenge.objects.filter(phone=phone, device=device)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if latest is None:
        return 0
    wait = latest + timedelta(seconds=settings.OTP_RESEND_COOLDOWN) - timezone.now()
    return max(0, math.ceil(wait.total_seconds()))
