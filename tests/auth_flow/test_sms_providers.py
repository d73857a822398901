"""The HTTP SMS backends against local fake providers (real HTTP on 127.0.0.1,
the real `requests` and `twilio` client code; tests/fakes/sms_servers.py)."""

import re
import time
from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from auth_flow.models import Challenge
from auth_flow.services import challenge_token_hash
from auth_flow.sms import BaseBackend, SendResult
from auth_flow.sms.breaker import breakers_reset
from tests.api.conftest import assert_error
from tests.fakes.sms_servers import FakeSmsServer

pytestmark = pytest.mark.django_db

CODE_URL = "/api/v1/auth/code/"
TOKEN_URL = "/api/v1/auth/token/"
ACCOUNT_SID = "AC" + "0" * 32


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    breakers_reset()
    yield
    breakers_reset()


@pytest.fixture
def smsru(settings) -> Iterator[FakeSmsServer]:
    with FakeSmsServer(kind="smsru") as fake:
        settings.SMS_BACKEND = "smsru"
        settings.SMSRU_API_ID = "test-api-id"
        settings.SMSRU_BASE_URL = fake.url
        settings.SMS_TIMEOUT = 2.0
        yield fake


@pytest.fixture
def twilio(settings) -> Iterator[FakeSmsServer]:
    with FakeSmsServer(kind="twilio") as fake:
        settings.SMS_BACKEND = "twilio"
        settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
        settings.TWILIO_AUTH_TOKEN = "test-auth-token"
        settings.TWILIO_FROM = "+15005550006"
        settings.TWILIO_MESSAGING_SERVICE_SID = ""
        settings.TWILIO_BASE_URL = fake.url
        settings.TWILIO_STATUS_CALLBACK_URL = "https://referral.example.com/webhooks/twilio/status/"
        settings.SMS_TIMEOUT = 2.0
        yield fake


def ask(phone: str, ip: str = "198.51.100.7"):  # noqa: ANN201
    return APIClient(REMOTE_ADDR=ip).post(CODE_URL, {"phone": phone}, format="json")


def sign_in(phone: str, code: str, challenge: str):  # noqa: ANN201
    body = {"phone": phone, "code": code, "challenge": challenge}
    return APIClient().post(TOKEN_URL, body, format="json")


def global_used() -> int:
    """Codes taken from this hour's global budget (its shards added up)."""
    from django.utils import timezone

    from auth_flow.sms.budgets import budgets_used

    return budgets_used(moment=timezone.now())["global"][0]


def code_in(text: str) -> str:
    return re.search(r"(?<![0-9])([0-9]{4})(?![0-9])", text).group(1)


# ---------------------------------------------------------------- SMS.ru


def test_smsru_sends_the_code_that_then_signs_in(smsru, new_phone):
    phone = new_phone()
    sent = ask(phone)
    assert sent.status_code == 202

    [request] = smsru.received
    assert request.path == "/sms/send"
    assert request.form["api_id"] == "test-api-id"
    assert request.form["to"] == phone.lstrip("+")
    assert request.form["json"] == "1"
    code = code_in(request.form["msg"])
    answer = sign_in(phone, code, sent.json()["challenge"])
    assert answer.status_code == 200, answer.json()
    challenge = Challenge.objects.get(phone=phone)
    assert (challenge.provider, challenge.delivery) == ("smsru", "sent")
    assert challenge.message_id.endswith("-10000000")
    assert code not in challenge.code_hash


def test_smsru_sender_name_is_sent_when_set(smsru, new_phone, settings):
    settings.SMSRU_SENDER = "Referral"
    ask(new_phone())
    assert smsru.received[0].form["from"] == "Referral"


def test_smsru_5xx_is_retried_once_within_the_budget(smsru, new_phone):
    smsru.plan = ["http500"]
    assert ask(new_phone()).status_code == 202
    assert len(smsru.received) == 2


def test_smsru_5xx_twice_answers_sms_unavailable_and_voids_the_challenge(smsru, new_phone):
    smsru.default = "http500"
    phone = new_phone()

    response = ask(phone)

    body = assert_error(response, 503, "sms_unavailable")
    assert int(response["Retry-After"]) > 0
    assert "try again" in body["detail"]
    assert len(smsru.received) == 2  # the first try and one retry
    code = code_in(smsru.received[0].form["msg"])
    challenge = Challenge.objects.get(phone=phone)
    assert (challenge.state, challenge.delivery) == ("failed", "failed")
    # Even had the SMS arrived (and its requester held the challenge), the code is void.
    challenge.token_hash = challenge_token_hash("held-by-the-requester")
    challenge.save(update_fields=["token_hash"])
    assert_error(sign_in(phone, code, "held-by-the-requester"), 400, "code_not_requested")


def test_a_failed_send_starts_no_cooldown_but_counts_for_the_ip(smsru, new_phone, settings):
    settings.OTP_IP_HOURLY = 3
    smsru.plan = ["http500", "http500"]
    phone = new_phone()
    assert ask(phone, ip="198.51.100.8").status_code == 503
    # No resend cooldown: the member may ask again at once, and this time it works.
    assert ask(phone, ip="198.51.100.8").status_code == 202
    assert ask(new_phone(), ip="198.51.100.8").status_code == 202
    # The failed request used one of the IP's three.
    assert_error(ask(new_phone(), ip="198.51.100.8"), 429, "ip_hourly_limit")


@pytest.mark.parametrize("behaviour", ["hang", "late"])
def test_a_send_with_no_answer_in_time_counts_answers_202_and_its_code_works(
    smsru, twilio, settings, new_phone, behaviour
):
    # The request went out, the provider took the message and answered too late (or
    # never): the code may arrive, so the member gets the challenge and the code
    # works; the send counts against the budget; no second provider sends a second code.
    settings.SMS_BACKEND = "smsru,twilio"
    settings.SMS_TIMEOUT = 1.0
    smsru.default = behaviour
    smsru.late = 3.0
    phone = new_phone()
    started = time.monotonic()

    response = ask(phone)

    assert response.status_code == 202, response.content
    assert time.monotonic() - started < settings.SMS_TIMEOUT + 1
    assert len(smsru.received) == 1  # not retried
    assert twilio.received == []  # not sent twice
    assert global_used() == 1
    challenge = Challenge.objects.get(phone=phone)
    assert (challenge.state, challenge.provider, challenge.delivery) == (
        "pending",
        "smsru",
        "pending",
    )
    code = code_in(smsru.received[0].form["msg"])
    assert sign_in(phone, code, response.json()["challenge"]).status_code == 200


def test_a_number_the_provider_refuses_is_phone_not_allowed(smsru, new_phone):
    smsru.default = 207
    phone = new_phone()

    assert_error(ask(phone), 400, "phone_not_allowed", field="phone")
    assert len(smsru.received) == 1  # not retried
    assert Challenge.objects.get(phone=phone).state == "failed"


def test_a_wrong_api_id_is_a_provider_failure_not_retried(smsru, new_phone):
    smsru.default = "auth"
    assert_error(ask(new_phone()), 503, "sms_unavailable")
    assert len(smsru.received) == 1


# ---------------------------------------------------------------- fallback chain


def test_chain_falls_back_to_the_second_provider(smsru, twilio, settings, new_phone):
    settings.SMS_BACKEND = "smsru,twilio"
    smsru.default = 201  # balance too low
    phone = new_phone()

    assert ask(phone).status_code == 202

    assert len(smsru.received) == 1
    [message] = twilio.received
    assert message.form["To"] == phone
    assert Challenge.objects.get(phone=phone).provider == "twilio"


def test_chain_does_not_try_the_next_provider_for_a_refused_number(
    smsru, twilio, settings, new_phone
):
    settings.SMS_BACKEND = "smsru,twilio"
    smsru.default = "refuse"
    assert_error(ask(new_phone()), 400, "phone_not_allowed", field="phone")
    assert twilio.received == []


def test_chain_of_two_dead_providers_is_sms_unavailable(smsru, twilio, settings, new_phone):
    settings.SMS_BACKEND = "smsru,twilio"
    smsru.default = twilio.default = "http500"
    assert_error(ask(new_phone()), 503, "sms_unavailable")
    assert (len(smsru.received), len(twilio.received)) == (2, 2)


@pytest.mark.parametrize("odd", ["oops", "overflow", "deep"])
def test_odd_200_answers_are_provider_failures_the_fallback_serves_the_breaker_counts(
    smsru, twilio, settings, new_phone, odd
):
    # {"sms": "oops"} (AttributeError), "status_code": 1e999 (OverflowError), deep
    # nesting (RecursionError): the provider failed; the next one sends the code.
    settings.SMS_BACKEND = "smsru,twilio"
    settings.SMS_BREAKER_FAILURES = 2
    smsru.default = odd
    phone = new_phone()

    response = ask(phone)

    assert response.status_code == 202, response.content
    assert Challenge.objects.get(phone=phone).provider == "twilio"
    code = code_in(twilio.received[0].form["Body"])
    assert sign_in(phone, code, response.json()["challenge"]).status_code == 200
    # The breaker counts them: after two, SMS.ru is no longer called on every request.
    assert ask(new_phone()).status_code == 202
    assert ask(new_phone()).status_code == 202
    assert len(smsru.received) == 2
    assert len(twilio.received) == 3


def test_an_odd_answer_from_the_only_provider_is_sms_unavailable_and_costs_nothing(
    smsru, new_phone
):
    smsru.default = "oops"
    phone = new_phone()
    assert_error(ask(phone), 503, "sms_unavailable")
    assert Challenge.objects.get(phone=phone).state == "failed"
    assert global_used() == 0


@pytest.mark.parametrize("kind", ["smsru", "twilio"])
def test_sms_timeout_is_a_wall_deadline_against_a_provider_that_trickles(
    smsru, twilio, settings, new_phone, kind
):
    # A byte every 0.3 s: each read is quick, the whole answer would take minutes.
    fake = smsru if kind == "smsru" else twilio
    settings.SMS_BACKEND = f"{kind},locmem"
    settings.SMS_TIMEOUT = 1.5
    fake.default = "trickle"
    fake.trickle = 0.3
    phone = new_phone()
    started = time.monotonic()

    response = ask(phone)

    assert time.monotonic() - started < settings.SMS_TIMEOUT + 1
    # The request went out and no whole answer came: the outcome is unknown, so the
    # member has the challenge and no second provider is asked.
    assert response.status_code == 202, response.content
    assert len(fake.received) == 1
    assert Challenge.objects.get(phone=phone).provider == kind
    # The cut connection is not reused: the next send goes through.
    fake.default = "ok"
    second = new_phone()
    assert ask(second).status_code == 202
    assert Challenge.objects.get(phone=second).delivery == "sent"


# ---------------------------------------------------------------- circuit breaker


def test_breaker_opens_after_failures_fails_fast_then_closes(smsru, settings, new_phone):
    settings.SMS_BREAKER_FAILURES = 2
    settings.SMS_BREAKER_COOLOFF = 3.0
    smsru.default = "http500"
    for _ in range(2):
        assert_error(ask(new_phone()), 503, "sms_unavailable")
    calls = len(smsru.received)

    # Open: the request never reaches the provider; Retry-After is the cool-off left.
    response = ask(new_phone())
    assert_error(response, 503, "sms_unavailable")
    assert len(smsru.received) == calls
    assert 1 <= int(response["Retry-After"]) <= 3

    # After the cool-off one trial goes through; it succeeds and closes the circuit.
    smsru.default = "ok"
    time.sleep(3.1)
    assert ask(new_phone()).status_code == 202
    assert ask(new_phone()).status_code == 202
    assert len(smsru.received) == calls + 2


def test_breaker_never_sticks_half_open_after_an_odd_trial_answer(smsru, settings, new_phone):
    # Open it, wait out the cool-off, let the trial get an odd body: the trial
    # counts as a failure (open again), and once the provider is healthy the next
    # trial closes the circuit: sends work again without a restart.
    settings.SMS_BREAKER_FAILURES = 2
    settings.SMS_BREAKER_COOLOFF = 1.0
    smsru.default = "http500"
    for _ in range(2):
        assert_error(ask(new_phone()), 503, "sms_unavailable")
    time.sleep(1.1)
    smsru.default = "oops"
    assert_error(ask(new_phone()), 503, "sms_unavailable")  # the trial
    smsru.default = "ok"
    time.sleep(1.1)
    assert ask(new_phone()).status_code == 202
    assert ask(new_phone()).status_code == 202


def test_breaker_lets_the_fallback_serve_while_open(smsru, twilio, settings, new_phone):
    settings.SMS_BACKEND = "smsru,twilio"
    settings.SMS_BREAKER_FAILURES = 1
    smsru.default = "auth"
    assert ask(new_phone()).status_code == 202
    assert ask(new_phone()).status_code == 202
    assert len(smsru.received) == 1  # the second request skipped the open circuit
    assert len(twilio.received) == 2


# ---------------------------------------------------------------- Twilio


def test_twilio_sends_through_the_sdk_and_the_code_signs_in(twilio, new_phone):
    phone = new_phone()
    sent = ask(phone)
    assert sent.status_code == 202

    [request] = twilio.received
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.form["To"] == phone
    assert request.form["From"] == "+15005550006"
    assert request.form["StatusCallback"].endswith("/webhooks/twilio/status/")
    code = code_in(request.form["Body"])
    answer = sign_in(phone, code, sent.json()["challenge"])
    assert answer.status_code == 200
    challenge = Challenge.objects.get(phone=phone)
    assert challenge.provider == "twilio"
    assert challenge.message_id.startswith("SM")


def test_twilio_messaging_service_replaces_the_sender_number(twilio, settings, new_phone):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32
    ask(new_phone())
    assert twilio.received[0].form["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in twilio.received[0].form


def test_twilio_refused_number_and_outage(twilio, new_phone):
    twilio.default = "refuse"
    assert_error(ask(new_phone()), 400, "phone_not_allowed", field="phone")
    twilio.default = "http500"
    assert_error(ask(new_phone()), 503, "sms_unavailable")


@pytest.mark.parametrize(
    ("behaviour", "answer"),
    [
        ("problem503", 202),  # RFC 9457 body: the SDK raises TwilioServiceException
        ("notjson", 202),  # a 201 with a proxy's HTML page: the SDK's json.loads fails
        ("problem400", 400),  # an RFC 9457 refusal of the number: no other provider
    ],
)
def test_twilio_odd_answers_fail_over_or_refuse_never_500(
    twilio, settings, new_phone, outbox, behaviour, answer
):
    settings.SMS_BACKEND = "twilio,locmem"
    twilio.default = behaviour
    phone = new_phone()

    response = ask(phone)

    assert response.status_code == answer, response.content
    challenge = Challenge.objects.get(phone=phone)
    if behaviour == "notjson":
        assert len(twilio.received) == 1  # Twilio may have taken it: not asked twice
    if answer == 202:
        # The fallback sent the code, which signs in.
        assert challenge.provider == "locmem"
        assert sign_in(phone, outbox[-1].code, response.json()["challenge"]).status_code == 200
    else:
        assert_error(response, 400, "phone_not_allowed", field="phone")
        assert outbox == []
        assert challenge.state == Challenge.State.FAILED


def test_any_unexpected_send_error_is_a_failed_send_not_500(settings, new_phone, caplog):
    settings.SMS_BACKEND = "tests.auth_flow.test_sms_providers.BrokenBackend"
    phone = new_phone()

    with caplog.at_level("ERROR", logger="auth_flow.sms.chain"):
        response = APIClient(REMOTE_ADDR="198.51.100.8").post(
            CODE_URL, {"phone": phone}, format="json"
        )

    assert_error(response, 503, "sms_unavailable")
    [logged] = [r for r in caplog.records if r.name == "auth_flow.sms.chain" and r.exc_info]
    assert "unexpected_error" in logged.getMessage()
    challenge = Challenge.objects.get(phone=phone)
    assert (challenge.state, challenge.delivery) == ("failed", "failed")
    assert global_used() == 0
    # A failed send starts no cooldown: the next request (now working) is served.
    settings.SMS_BACKEND = "locmem"
    assert ask(phone).status_code == 202


class BrokenBackend(BaseBackend):
    """A backend with a bug: it raises what no backend is meant to."""

    name = "broken"

    def send(self, *, phone: str, text: str, code: str) -> SendResult:
        raise KeyError("sid")


def test_twilio_hang_is_an_unknown_outcome_answered_within_the_timeout(twilio, settings, new_phone):
    settings.SMS_TIMEOUT = 1.0
    twilio.default = "hang"
    started = time.monotonic()
    assert ask(new_phone()).status_code == 202
    assert time.monotonic() - started < settings.SMS_TIMEOUT + 1
    assert len(twilio.received) == 1


# ---------------------------------------------------------------- the web form


def test_web_form_says_the_sms_could_not_be_sent_and_keeps_the_phone(client, smsru, new_phone):
    smsru.default = "http500"
    phone = new_phone()
    response = client.post("/auth/phone/", {"phone": phone}, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    text = response.content.decode()
    assert "Не удалось отправить SMS" in text
    assert f'value="{phone}"' in text


def test_web_form_shows_a_refused_number_on_the_phone_field(client, smsru, new_phone):
    smsru.default = "refuse"
    response = client.post("/auth/phone/", {"phone": new_phone()})
    assert response.status_code == 422
    assert "cannot send codes to this number" in response.content.decode()
