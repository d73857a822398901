"""Twilio's status callback: signed by Twilio, or refused."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from twilio.request_validator import RequestValidator

from auth_flow.models import Challenge

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://referral.example.com/webhooks/twilio/status/"
TOKEN = "test-auth-token"
SID = "SM" + "a" * 32


@pytest.fixture(autouse=True)
def _twilio(settings) -> None:
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_STATUS_CALLBACK_URL = PUBLIC_URL


@pytest.fixture
def challenge(new_phone) -> Challenge:
    now = timezone.now()
    return Challenge.objects.create(
        phone=new_phone(),
        ip="203.0.113.9",
        code_hash="0" * 64,
        attempts_left=3,
        created_at=now,
        expires_at=now + timedelta(minutes=5),
        provider="twilio",
        message_id=SID,
        delivery=Challenge.Delivery.SENT,
    )


def callback(params: dict, *, signature: str | None = None, url: str = PUBLIC_URL):  # noqa: ANN201
    if signature is None:
        signature = RequestValidator(TOKEN).compute_signature(url, params)
    # enforce_csrf_checks: the webhook must work without a CSRF token.
    return Client(enforce_csrf_checks=True).post(
        "/webhooks/twilio/status/", params, HTTP_X_TWILIO_SIGNATURE=signature
    )


def params(status: str) -> dict:
    return {"MessageSid": SID, "MessageStatus": status, "AccountSid": "AC" + "0" * 32}


def test_a_signed_callback_with_a_nul_byte_is_a_400_and_changes_nothing(challenge):
    response = callback({**params("delivered"), "MessageSid": SID[:10] + "\x00"})
    assert response.status_code == 400
    challenge.refresh_from_db()
    assert challenge.delivery == Challenge.Delivery.SENT


def test_a_signed_callback_records_the_delivery(challenge):
    response = callback(params("delivered"))
    assert response.status_code == 204
    challenge.refresh_from_db()
    assert challenge.delivery == "delivered"
    assert challenge.delivery_updated_at is not None


def test_a_bad_signature_is_refused_and_changes_nothing(challenge):
    assert callback(params("delivered"), signature="forged").status_code == 403
    assert callback(params("delivered"), signature="").status_code == 403
    # Signed for another URL (what the app would see behind a proxy): refused too.
    other = RequestValidator(TOKEN).compute_signature(
        "http://testserver/webhooks/twilio/status/", params("delivered")
    )
    assert callback(params("delivered"), signature=other).status_code == 403
    challenge.refresh_from_db()
    assert challenge.delivery == "sent"


def test_a_late_sent_report_does_not_undo_an_outcome(challenge):
    callback(params("undelivered"))
    callback(params("sent"))
    challenge.refresh_from_db()
    assert challenge.delivery == "undelivered"


def test_an_unknown_message_is_acknowledged(challenge):
    unknown = {**params("delivered"), "MessageSid": "SM" + "b" * 32}
    assert callback(unknown).status_code == 204


def test_without_an_auth_token_every_callback_is_refused(challenge, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    assert callback(params("delivered"), signature="anything").status_code == 403


def test_only_post(challenge):
    assert Client().get("/webhooks/twilio/status/").status_code == 405
