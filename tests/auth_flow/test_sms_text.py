"""The sign-in SMS as each backend sends it: it ends with the origin-bound line
`@<host> #<code>` (WebOTP, iOS autofill) and costs one SMS segment, in English and
in Russian. The HTTP backends are read at local fake providers (the real clients)."""

import logging
from collections.abc import Callable, Iterator

import pytest
from rest_framework.test import APIClient

from auth_flow.messages import otp_origin_host, otp_sms_text, sms_segment_units
from auth_flow.sms import LocmemBackend
from auth_flow.sms.breaker import breakers_reset
from tests.fakes.sms_servers import FakeSmsServer

pytestmark = pytest.mark.django_db

HOST = "referral.example.com"
BACKENDS = ["console", "demo", "locmem", "smsru", "twilio"]


@pytest.fixture(autouse=True)
def _origin(settings) -> Iterator[None]:
    settings.OTP_ORIGIN_HOST = ""
    settings.ALLOWED_HOSTS = ["127.0.0.1", HOST, "www." + HOST, "testserver"]
    breakers_reset()
    yield
    breakers_reset()


@pytest.fixture
def sent_text(settings, caplog) -> Iterator[Callable[[str, str], str]]:
    """Send a code through `backend` in `language`; the text that backend sent."""
    fakes: list[FakeSmsServer] = []

    def send(backend: str, language: str) -> str:
        settings.SMS_BACKEND = backend
        settings.DEMO_MODE = True
        fake = None
        if backend == "smsru":
            fake = FakeSmsServer(kind="smsru").start()
            settings.SMSRU_API_ID = "test-api-id"
            settings.SMSRU_BASE_URL = fake.url
        elif backend == "twilio":
            fake = FakeSmsServer(kind="twilio").start()
            settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
            settings.TWILIO_AUTH_TOKEN = "test-auth-token"
            settings.TWILIO_FROM = "+15005550006"
            settings.TWILIO_MESSAGING_SERVICE_SID = ""
            settings.TWILIO_BASE_URL = fake.url
            settings.TWILIO_STATUS_CALLBACK_URL = f"https://{HOST}/webhooks/twilio/status/"
        if fake:
            fakes.append(fake)
        caplog.set_level(logging.INFO, logger="auth_flow.sms")
        caplog.clear()
        answer = APIClient().post(
            "/api/v1/auth/code/",
            {"phone": "+79991234567"},
            format="json",
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert answer.status_code == 202, answer.json()
        if backend == "smsru":
            return fake.received[-1].form["msg"]
        if backend == "twilio":
            return fake.received[-1].form["Body"]
        if backend == "locmem":
            return LocmemBackend.outbox[-1].text
        [line] = [r for r in caplog.records if r.getMessage().startswith("sms to=")]
        return line.args[1]

    yield send
    for fake in fakes:
        fake.stop()


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_sends_one_segment_ending_with_the_origin_line(sent_text, backend, language):
    text = sent_text(backend, language)
    last_line = text.splitlines()[-1]
    code = last_line.rsplit("#", 1)[-1]
    assert last_line == f"@{HOST} #{code}" and code.isdigit() and len(code) == 4
    used, room = sms_segment_units(text)
    assert used <= room, (text, used, room)
    if language == "ru":
        assert text.startswith("Ваш код для входа: ") and room == 70
    else:
        assert text.startswith("Your sign-in code: ") and room == 160


def test_the_origin_host_is_the_setting_else_the_first_named_allowed_host(settings):
    settings.ALLOWED_HOSTS = ["10.0.0.1", "[::1]", "*", ".example.org", "example.net"]
    assert otp_origin_host() == "example.org"
    settings.ALLOWED_HOSTS = ["10.0.0.1", "*"]
    assert otp_origin_host() == ""
    settings.OTP_ORIGIN_HOST = "referral.example.com"
    assert otp_origin_host() == "referral.example.com"


@pytest.mark.parametrize(
    ("host", "words"),
    [
        ("sign-in.a-longer-domain-name.example.com", "Код: 1234\n\n"),  # 40 characters
        ("a-rather-long-subdomain.of-a-long-domain-name.example", ""),  # 53
    ],
)
def test_a_long_host_keeps_the_russian_text_to_one_segment(settings, host, words):
    from django.utils import translation

    settings.OTP_ORIGIN_HOST = host
    with translation.override("ru"):
        text = otp_sms_text(code="1234")
    # Shorter words, then the origin line alone (it holds the code too).
    assert text == f"{words}@{host} #1234"
    used, room = sms_segment_units(text)
    assert used <= room


def test_segments_are_counted_as_providers_count_them():
    assert sms_segment_units("Your code: 1234") == (15, 160)
    assert sms_segment_units("Code [1234]") == (13, 160)  # [ and ] take two septets
    assert sms_segment_units("Код: 1234") == (9, 70)
