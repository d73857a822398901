"""Reads of sign-in challenges."""

import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from auth_flow.models import Challenge
from auth_flow.services import CHALLENGE_TOKEN_MAX_LENGTH, challenge_token_hash
from auth_flow.sms import channel_of


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


@dataclass(frozen=True)
class PendingCode:
    """The code a requester is waiting for, as its code screen shows it."""

    phone: str
    expires_in: int
    # How the code went (`telegram`, `sms`), and whether it may still be sent by SMS instead.
    channel: str = "sms"
    sms_fallback: bool = False


def challenge_pending(*, phone: str, token: str) -> PendingCode | None:
    """The requester's challenge (`token`) for `phone` if its code can still be entered:
    pending and not expired. None otherwise (none asked, used, replaced, locked...)."""
    if not token or len(token) > CHALLENGE_TOKEN_MAX_LENGTH:
        return None
    now = timezone.now()
    row = (
        Challenge.objects.filter(
            phone=phone,
            token_hash=challenge_token_hash(token),
            state=Challenge.State.PENDING,
            expires_at__gt=now,
        )
        .values_list("expires_at", "provider", "sms_fallback_at")
        .first()
    )
    if row is None:
        return None
    expires_at, provider, sms_fallback_at = row
    channel = channel_of(provider) if provider else "sms"
    return PendingCode(
        phone=phone,
        expires_in=math.ceil((expires_at - now).total_seconds()),
        channel=channel,
        sms_fallback=channel == "telegram" and sms_fallback_at is None,
    )
