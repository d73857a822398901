"""Toll-fraud guards: number types, regions and hourly budgets, judged before any
provider is called."""

import io
import logging
import re
from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from auth_flow.models import Challenge, SendBudget
from auth_flow.sms.breaker import breakers_reset
from tests.api.conftest import assert_error
from tests.fakes.sms_servers import FakeSmsServer

pytestmark = pytest.mark.django_db

CODE_URL = "/api/v1/auth/code/"


@pytest.fixture
def smsru(settings) -> Iterator[FakeSmsServer]:
    breakers_reset()
    with FakeSmsServer(kind="smsru") as fake:
        settings.SMS_BACKEND = "smsru"
        settings.SMSRU_API_ID = "test-api-id"
        settings.SMSRU_BASE_URL = fake.url
        yield fake
    breakers_reset()


def ask(phone: str, ip: str = "198.51.100.9"):  # noqa: ANN201
    return APIClient(REMOTE_ADDR=ip).post(CODE_URL, {"phone": phone}, format="json")


@pytest.mark.parametrize(
    ("phone", "kind"),
    [
        ("+78091234567", "Russian premium-rate (+7 809)"),
        ("+449012345678", "UK premium-rate (+44 90)"),
        ("+18005550100", "US toll-free (+1 800)"),
        ("+74951234567", "Moscow landline (+7 495)"),
        ("+881612345678", "Globalstar satellite (+881), which phonenumbers calls mobile"),
        ("+4930123456", "Berlin landline"),
    ],
)
def test_numbers_that_cost_too_much_are_refused_before_any_provider(smsru, phone, kind):
    assert_error(ask(phone), 400, "phone_not_allowed", field="phone")
    assert smsru.received == [], kind
    assert not Challenge.objects.filter(phone=phone).exists()


def test_a_mobile_outside_the_allowed_regions_is_refused(smsru, settings):
    settings.OTP_ALLOWED_REGIONS = ["RU", "KZ"]
    assert_error(ask("+375291234567"), 400, "phone_not_allowed", field="phone")
    assert smsru.received == []
    assert ask("+77011234567").status_code == 202  # Kazakhstan, allowed
    assert len(smsru.received) == 1


def test_the_test_numbers_are_mobile_and_go_through(smsru, new_phone):
    assert ask(new_phone()).status_code == 202
    assert ask("+12025550143").status_code == 202  # US numbers: fixed line or mobile


def test_number_types_are_a_setting(smsru, settings):
    settings.OTP_NUMBER_TYPES = ["MOBILE", "FIXED_LINE"]
    assert ask("+74951234567").status_code == 202


def test_the_demo_backend_applies_the_same_guards(settings):
    settings.SMS_BACKEND = "demo"
    settings.DEMO_MODE = True
    assert_error(ask("+78091234567"), 400, "phone_not_allowed", field="phone")


def test_web_form_refuses_a_premium_number_on_the_phone_field(client, smsru):
    response = client.post("/auth/phone/", {"phone": "+7 809 123-45-67"})
    assert response.status_code == 422
    assert "cannot send codes to this number" in response.content.decode()
    assert smsru.received == []


# ---------------------------------------------------------------- budgets


def test_global_budget_answers_503_with_the_end_of_the_hour(smsru, settings, new_phone, caplog):
    settings.OTP_GLOBAL_HOURLY = 3
    for index in range(3):
        assert ask(new_phone(), ip=f"198.51.100.{index + 20}").status_code == 202

    with caplog.at_level(logging.ERROR):
        responses = [ask(new_phone(), ip=f"198.51.100.{index + 30}") for index in range(3)]

    for response in responses:
        assert_error(response, 503, "sms_budget_exhausted")
        assert 1 <= int(response["Retry-After"]) <= 3601
    assert len(smsru.received) == 3
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    # One line per window for an alert, not one per request.
    assert [r.getMessage().split(" limit=")[0] for r in errors] == [
        "sms budget exhausted budget=global"
    ]
    assert SendBudget.objects.get(key="global").refused == 3


def test_region_budget_is_per_country_calling_code(smsru, settings, new_phone):
    settings.OTP_REGION_HOURLY = 2
    assert ask(new_phone(), ip="198.51.100.40").status_code == 202
    assert ask(new_phone(), ip="198.51.100.41").status_code == 202
    assert_error(ask(new_phone(), ip="198.51.100.42"), 503, "sms_budget_exhausted")
    assert ask("+12025550143", ip="198.51.100.43").status_code == 202  # +1 has its own
    assert SendBudget.objects.get(key="cc:7").used == 2


def test_a_failed_send_gives_its_budget_back(smsru, settings, new_phone):
    settings.OTP_GLOBAL_HOURLY = 1
    smsru.default = "http500"
    assert_error(ask(new_phone(), ip="198.51.100.50"), 503, "sms_unavailable")
    smsru.default = "ok"
    assert ask(new_phone(), ip="198.51.100.51").status_code == 202
    assert SendBudget.objects.get(key="global").used == 1


def test_a_throttled_request_takes_no_budget(smsru, settings, new_phone):
    phone = new_phone()
    assert ask(phone).status_code == 202
    assert_error(ask(phone), 429, "resend_cooldown")
    assert SendBudget.objects.get(key="global").used == 1


def test_no_log_line_shows_the_code(smsru, new_phone, caplog):
    caplog.set_level(logging.DEBUG)
    phone = new_phone()
    assert ask(phone).status_code == 202
    text = smsru.received[0].form["msg"]
    code = re.search(r"\d{4}", text).group()
    assert not [r for r in caplog.records if re.search(rf"\b{code}\b", r.getMessage())]
    assert not [r for r in caplog.records if text in r.getMessage()]


def test_purge_deletes_budget_windows_older_than_a_day(smsru, new_phone):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    assert ask(new_phone()).status_code == 202
    SendBudget.objects.create(key="global", window_start=timezone.now() - timedelta(days=2), used=5)
    call_command("purge_challenges", stdout=io.StringIO())
    assert (
        SendBudget.objects.filter(window_start__lt=timezone.now() - timedelta(days=1)).count() == 0
    )
    assert SendBudget.objects.filter(key="global").count() == 1
