"""Suspension and the daily code counts that outlive purged challenges."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from auth_flow.models import Challenge
from profiles.services import member_suspend
from staff_console.models import DailyCodeStat
from staff_console.selectors import RANGES, code_counts
from staff_console.services import code_counts_rollup

pytestmark = pytest.mark.django_db


# --- suspension ------------------------------------------------------------


def test_suspension_ends_the_members_session_at_once(client, make_member, operator):
    member = make_member()
    client.force_login(member, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/profile/").status_code == 200

    member_suspend(member=member, by=operator)

    response = client.get("/profile/")
    assert response.status_code == 302  # signed out: ModelBackend.get_user refuses the inactive
    member.refresh_from_db()
    assert not member.is_active and member.suspended_at is not None


def test_suspension_stops_refresh_and_access_tokens_at_once(client, make_member, operator):
    member = make_member()
    refresh = RefreshToken.for_user(member)
    access = str(refresh.access_token)
    other = RefreshToken.for_user(member)  # a second device

    member_suspend(member=member, by=operator)

    for token in (refresh, other):
        response = client.post(
            "/api/v1/auth/token/refresh/", {"refresh": str(token)}, content_type="application/json"
        )
        assert response.status_code == 401
        assert response.json()["code"] == "token_not_valid"
    profile = client.get("/api/v1/profile/", headers={"Authorization": f"Bearer {access}"})
    assert profile.status_code == 401


def test_suspension_blocks_a_new_code_sign_in_on_the_web_and_the_api(
    client, outbox, make_member, operator
):
    member, api_member = make_member(), make_member()
    member_suspend(member=member, by=operator)
    member_suspend(member=api_member, by=operator)

    client.post("/auth/phone/", {"phone": str(member.phone)})
    response = client.post("/auth/code/", {"code": outbox[-1].code})
    assert response.status_code == 422
    assert client.get("/profile/").status_code == 302  # no session opened

    phone = str(api_member.phone)
    asked = client.post("/api/v1/auth/code/", {"phone": phone}, content_type="application/json")
    answer = client.post(
        "/api/v1/auth/token/",
        {"phone": phone, "code": outbox[-1].code, "challenge": asked.json()["challenge"]},
        content_type="application/json",
    )
    assert (answer.status_code, answer.json()["code"]) == (403, "account_disabled")


# --- codes sent per provider, beyond purge_challenges -----------------------


def test_daily_counts_keep_codes_sent_after_the_challenges_are_purged(challenge_at):
    now = timezone.now()
    for provider, used in (("smsru", True), ("smsru", False), ("twilio", True)):
        challenge_at(provider=provider, used=used, at=now - timedelta(days=3))
    challenge_at(provider="twilio", at=now - timedelta(days=3), delivery="failed")
    start = RANGES["7d"].start()
    before = code_counts(start=start)

    code_counts_rollup()
    Challenge.objects.all().delete()  # what purge_challenges does after a day
    challenge_at(provider="twilio", used=True, at=now - timedelta(minutes=1))  # live

    assert before == {"smsru": (2, 1, 0), "twilio": (1, 1, 0)}
    assert code_counts(start=start) == {"smsru": (2, 1, 0), "twilio": (2, 2, 0)}
    assert DailyCodeStat.objects.count() == 2
    assert code_counts_rollup() == 0  # nothing new to roll up yet


def test_a_longer_code_lifetime_still_counts_every_sign_in(challenge_at, settings):
    settings.OTP_TTL = 30 * 60
    now = timezone.now()
    late = challenge_at(provider="smsru", at=now - timedelta(minutes=20))
    late.expires_at = late.created_at + timedelta(seconds=settings.OTP_TTL)
    late.save(update_fields=["expires_at"])
    start = RANGES["7d"].start()

    code_counts_rollup(now=now)
    # Still inside its lifetime: the code is used after the rollup ran.
    Challenge.objects.filter(pk=late.pk).update(state=Challenge.State.USED, used_at=now)
    code_counts_rollup(now=now + timedelta(hours=1))
    Challenge.objects.all().delete()  # what purge_challenges does after a day

    assert code_counts(start=start) == {"smsru": (1, 1, 0)}


def test_telegram_codes_are_counted_with_the_ones_it_refunded(challenge_at):
    now = timezone.now()
    challenge_at(provider="telegram", used=True, at=now - timedelta(days=2))
    challenge_at(provider="telegram", at=now - timedelta(days=2), refunded=True)
    challenge_at(provider="smsru", at=now - timedelta(days=2))
    start = RANGES["7d"].start()
    code_counts_rollup()
    Challenge.objects.all().delete()
    challenge_at(provider="telegram", at=now - timedelta(minutes=1), refunded=True)  # live

    assert code_counts(start=start) == {"telegram": (3, 1, 2), "smsru": (1, 0, 0)}
