"""Codes by Telegram first, SMS as the fallback: the Telegram Gateway backend against a
local fake Gateway (tests/fakes/telegram_gateway.py) and SMS.ru's fake, over real HTTP."""

import json
import re
import time
from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from rest_framework.test import APIClient

from auth_flow.checks import sms_configuration_refuse
from auth_flow.models import Challenge
from auth_flow.sms.breaker import breakers_reset
from tests.api.conftest import assert_error
from tests.fakes.sms_servers import FakeSmsServer
from tests.fakes.telegram_gateway import FakeTelegramGateway, report_signature

pytestmark = pytest.mark.django_db

CODE_URL = "/api/v1/auth/code/"
TOKEN_URL = "/api/v1/auth/token/"
REPORT_URL = "/webhooks/telegram/status/"


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    breakers_reset()
    yield
    breakers_reset()


@pytest.fixture
def gateway(settings) -> Iterator[FakeTelegramGateway]:
    with FakeTelegramGateway() as fake:
        settings.TELEGRAM_GATEWAY_TOKEN = fake.token
        settings.TELEGRAM_GATEWAY_BASE_URL = fake.url
        settings.TELEGRAM_GATEWAY_CALLBACK_URL = "https://referral.example.com" + REPORT_URL
        settings.SMS_TIMEOUT = 1.0
        yield fake


@pytest.fixture
def smsru(settings, gateway) -> Iterator[FakeSmsServer]:
    with FakeSmsServer(kind="smsru") as fake:
        settings.SMS_BACKEND = "telegram,smsru"
        settings.SMSRU_API_ID = "test-api-id"
        settings.SMSRU_BASE_URL = fake.url
        yield fake


def ask(phone: str, ip: str = "198.51.100.7"):  # noqa: ANN201
    return APIClient(REMOTE_ADDR=ip).post(CODE_URL, {"phone": phone}, format="json")


def sign_in(phone: str, code: str, challenge: str):  # noqa: ANN201
    body = {"phone": phone, "code": code, "challenge": challenge}
    return APIClient().post(TOKEN_URL, body, format="json")


def sms_code(text: str) -> str:
    return re.search(r"\d{4}", text).group(0)


def test_the_gateway_gets_our_code_and_the_number_and_the_code_signs_in(gateway, smsru, settings):
    phone = "+79161230001"
    sent = ask(phone)
    assert sent.status_code == 202, sent.json()

    [request] = gateway.received
    assert request.path == "/sendVerificationMessage"
    assert request.headers["Authorization"] == f"Bearer {gateway.token}"
    assert request.params["phone_number"] == phone
    assert request.params["ttl"] == settings.OTP_TTL
    assert request.params["callback_url"] == settings.TELEGRAM_GATEWAY_CALLBACK_URL
    assert smsru.received == []  # Telegram took it: no SMS is paid for
    answer = sign_in(phone, request.params["code"], sent.json()["challenge"])
    assert answer.status_code == 200, answer.json()
    challenge = Challenge.objects.get(phone=phone)
    assert (challenge.provider, challenge.delivery) == ("telegram", "sent")
    assert challenge.message_id == request.params["_request_id"]


def test_the_ttl_stays_within_the_gateways_range(gateway, smsru, settings):
    settings.OTP_TTL = 3 * 3600
    assert ask("+79161230002").status_code == 202
    assert gateway.received[0].params["ttl"] == 3600


def test_a_number_not_on_telegram_gets_the_code_by_sms(gateway, smsru):
    gateway.default = "not_on_telegram"
    phone = "+79161230003"
    sent = ask(phone)
    assert sent.status_code == 202
    [request] = smsru.received
    assert request.form["to"] == phone.lstrip("+")
    answer = sign_in(phone, sms_code(request.form["msg"]), sent.json()["challenge"])
    assert answer.status_code == 200
    assert Challenge.objects.get(phone=phone).provider == "smsru"


@pytest.mark.parametrize("behaviour", ["http500", "notjson", "oddbody", "deep", "token"])
def test_gateway_errors_and_odd_answers_fall_back_to_sms(gateway, smsru, behaviour):
    gateway.default = behaviour
    sent = ask("+79161230010")
    assert sent.status_code == 202
    assert len(smsru.received) == 1


def test_a_gateway_that_hangs_falls_back_within_the_time_budget(gateway, smsru, settings):
    gateway.default = "hang"
    started = time.monotonic()
    phone = "+79161230011"
    sent = ask(phone)
    # Half the deadline for Telegram, the rest for the SMS, which carries the same code.
    assert sent.status_code == 202
    # Bounded by the deadline, not by the hang (the fake holds it for 120 s); the
    # slack is for a loaded test machine, still far below the hang.
    assert time.monotonic() - started < 2 * settings.SMS_TIMEOUT + 10
    [request] = smsru.received
    answer = sign_in(phone, sms_code(request.form["msg"]), sent.json()["challenge"])
    assert answer.status_code == 200


def test_refused_number_types_never_reach_the_gateway(gateway, smsru):
    # A fixed-line number: the toll-fraud guards apply before any channel is tried.
    assert_error(ask("+74951234567"), 400, "phone_not_allowed")
    assert gateway.received == []


def test_telegram_failures_open_its_breaker_and_sms_carries_on(gateway, smsru, settings):
    settings.SMS_BREAKER_FAILURES = 2
    gateway.default = "http500"
    for n in range(4):
        assert ask(f"+7916123002{n}").status_code == 202
    # Two failed sends (each with its one retry) opened the breaker: the later
    # requests went straight to SMS without calling the Gateway.
    assert len(gateway.received) == 4
    assert len(smsru.received) == 4


def test_a_start_up_naming_telegram_without_a_token_is_refused(settings):
    settings.SMS_BACKEND = "telegram,smsru"
    settings.SMSRU_API_ID = "test-api-id"
    settings.TELEGRAM_GATEWAY_TOKEN = ""
    with pytest.raises(ImproperlyConfigured, match="TELEGRAM_GATEWAY_TOKEN"):
        sms_configuration_refuse()


# ---------------------------------------------------------------- delivery reports


@pytest.fixture
def sent_by_telegram(gateway, smsru, live_server, settings) -> tuple[str, str]:
    settings.TELEGRAM_GATEWAY_CALLBACK_URL = live_server.url + REPORT_URL
    phone = "+79161230030"
    assert ask(phone).status_code == 202
    return phone, gateway.received[0].params["_request_id"]


@pytest.mark.django_db(transaction=True)
def test_signed_reports_record_delivered_read_and_refunded(gateway, sent_by_telegram):
    phone, request_id = sent_by_telegram
    assert gateway.report(request_id=request_id, status="delivered") == 204
    assert Challenge.objects.get(phone=phone).delivery == "delivered"
    assert gateway.report(request_id=request_id, status="read") == 204
    assert Challenge.objects.get(phone=phone).delivery == "read"


@pytest.mark.django_db(transaction=True)
def test_an_expired_code_is_recorded_with_its_refund(gateway, sent_by_telegram):
    phone, request_id = sent_by_telegram
    assert gateway.report(request_id=request_id, status="expired", refunded=True) == 204
    challenge = Challenge.objects.get(phone=phone)
    assert (challenge.delivery, challenge.refunded) == ("expired", True)


def _post_report(body: bytes, *, timestamp: str, signature: str):  # noqa: ANN202
    return Client().post(
        REPORT_URL,
        body,
        content_type="application/json",
        HTTP_X_REQUEST_TIMESTAMP=timestamp,
        HTTP_X_REQUEST_SIGNATURE=signature,
    )


def test_a_report_with_a_bad_signature_is_refused_and_changes_nothing(gateway, smsru, settings):
    phone = "+79161230031"
    assert ask(phone).status_code == 202
    request_id = gateway.received[0].params["_request_id"]
    body = json.dumps({"request_id": request_id, "delivery_status": {"status": "read"}}).encode()
    now = str(int(time.time()))
    wrong_key = report_signature(token="not-the-token", timestamp=now, body=body)
    assert _post_report(body, timestamp=now, signature=wrong_key).status_code == 403
    assert _post_report(body, timestamp=now, signature="").status_code == 403
    assert Challenge.objects.get(phone=phone).delivery == "sent"


def test_a_stale_report_is_refused_even_when_signed(gateway, settings):
    body = b'{"request_id": "1", "delivery_status": {"status": "delivered"}}'
    old = str(int(time.time()) - 301)
    signed = report_signature(token=gateway.token, timestamp=old, body=body)
    assert _post_report(body, timestamp=old, signature=signed).status_code == 403
    now = str(int(time.time()))
    fresh = report_signature(token=gateway.token, timestamp=now, body=body)
    assert _post_report(body, timestamp=now, signature=fresh).status_code == 204


def test_a_signed_report_that_is_not_json_is_a_400(gateway):
    body = b"\x00not json"
    now = str(int(time.time()))
    signed = report_signature(token=gateway.token, timestamp=now, body=body)
    assert _post_report(body, timestamp=now, signature=signed).status_code == 400


# ---------------------------------------------------------------- "Send by SMS instead"


def test_the_api_says_which_channel_the_code_went_by(gateway, smsru):
    assert ask("+79161230040").json()["channel"] == "telegram"
    gateway.default = "not_on_telegram"
    assert ask("+79161230041").json()["channel"] == "sms"


def test_the_api_sends_a_telegram_code_by_sms_once_inside_the_resend_wait(gateway, smsru):
    phone = "+79161230042"
    first = ask(phone).json()
    client = APIClient(REMOTE_ADDR="198.51.100.7")
    body = {"phone": phone, "challenge": first["challenge"], "channel": "sms"}
    again = client.post(CODE_URL, body, format="json")
    assert again.status_code == 202, again.json()
    assert again.json()["channel"] == "sms"
    [sms] = smsru.received
    # The SMS's code signs in; the Telegram code was replaced once the SMS went out.
    telegram_code = gateway.received[0].params["code"]
    assert sign_in(phone, telegram_code, first["challenge"]).status_code == 400
    assert sign_in(phone, sms_code(sms.form["msg"]), again.json()["challenge"]).status_code == 200

    # Once per code: asking again for the same Telegram code is refused, nothing sent.
    assert_error(client.post(CODE_URL, body, format="json"), 400, "sms_fallback_unavailable")
    assert len(smsru.received) == 1


def test_sms_instead_needs_a_code_that_went_by_telegram(gateway, smsru):
    gateway.default = "not_on_telegram"
    phone = "+79161230043"
    first = ask(phone).json()
    body = {"phone": phone, "challenge": first["challenge"], "channel": "sms"}
    assert_error(ask_body(body), 400, "sms_fallback_unavailable")
    assert_error(ask_body({**body, "challenge": "forged"}), 400, "sms_fallback_unavailable")
    assert len(smsru.received) == 1


def test_sms_instead_still_counts_against_the_hourly_limit(gateway, smsru, settings):
    settings.OTP_PHONE_HOURLY = 1
    phone = "+79161230044"
    first = ask(phone).json()
    body = {"phone": phone, "challenge": first["challenge"], "channel": "sms"}
    assert_error(ask_body(body), 429, "phone_hourly_limit")
    assert smsru.received == []
    # Refused, so not used up: once the limit allows, it can still be asked for.
    settings.OTP_PHONE_HOURLY = 5
    assert ask_body(body).status_code == 202


def ask_body(body: dict):  # noqa: ANN201
    return APIClient(REMOTE_ADDR="198.51.100.7").post(CODE_URL, body, format="json")


def test_the_code_screen_says_telegram_and_offers_sms_instead_once(gateway, smsru):
    browser = Client()
    phone = "+79161230045"
    assert browser.post("/auth/phone/", {"phone": phone}).status_code == 303
    screen = browser.get("/auth/code/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert 'data-channel="telegram"' in screen
    assert "Telegram" in screen
    assert "data-sms-instead" in screen

    answer = browser.post("/auth/phone/", {"phone": phone, "channel": "sms"})
    assert answer.status_code == 303  # inside the resend wait, and served
    assert len(smsru.received) == 1
    screen = browser.get("/auth/code/").content.decode()
    assert 'data-channel="sms"' in screen
    assert "data-sms-instead" not in screen
    # The SMS's code signs this browser in.
    signed = browser.post("/auth/code/", {"code": sms_code(smsru.received[0].form["msg"])})
    assert signed.status_code == 302
    assert signed["Location"] == "/profile/"


def test_sms_instead_asked_twice_on_the_web_is_a_form_error(gateway, smsru):
    browser = Client()
    phone = "+79161230046"
    browser.post("/auth/phone/", {"phone": phone})
    browser.post("/auth/phone/", {"phone": phone, "channel": "sms"})
    again = browser.post("/auth/phone/", {"phone": phone, "channel": "sms"})
    assert again.status_code == 422
    assert "cannot be sent by SMS instead" in again.content.decode()
    assert len(smsru.received) == 1


def test_telegrams_breaker_recovers_once_the_gateway_answers_again(gateway, smsru, settings):
    settings.SMS_BREAKER_FAILURES = 1
    settings.SMS_BREAKER_COOLOFF = 0.5
    gateway.default = "http500"
    assert ask("+79161230050").status_code == 202  # by SMS: Telegram failed, breaker opens
    assert ask("+79161230051").status_code == 202  # by SMS: Telegram not even called
    calls = len(gateway.received)
    gateway.default = "ok"
    time.sleep(0.6)  # the cool-off passes: one trial goes through, and succeeds
    assert ask("+79161230052").json()["channel"] == "telegram"
    assert ask("+79161230053").json()["channel"] == "telegram"
    assert len(gateway.received) == calls + 2
    assert len(smsru.received) == 2
