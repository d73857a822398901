import time

import pytest
from django.core.checks import run_checks

from auth_flow.sms import ConsoleBackend, DemoBackend, LocmemBackend, mask_phone, sms_backend


def test_backend_is_chosen_by_setting(settings):
    settings.SMS_BACKEND = "console"
    assert isinstance(sms_backend(), ConsoleBackend)
    settings.SMS_BACKEND = "demo"
    assert isinstance(sms_backend(), DemoBackend)
    settings.SMS_BACKEND = "locmem"
    assert isinstance(sms_backend(), LocmemBackend)


def test_simulated_gateway_waits_within_the_configured_range(settings):
    settings.OTP_SEND_DELAY = [0.05, 0.1]
    started = time.monotonic()
    LocmemBackend().send(phone="+79991234567", text="t", code="1234")
    assert 0.05 <= time.monotonic() - started < 1


def test_masked_phone_hides_the_middle_digits():
    assert mask_phone("+79991234567") == "+7999***4567"


def test_console_backend_logs_the_message(caplog, settings):
    settings.SMS_BACKEND = "console"
    with caplog.at_level("INFO", logger="auth_flow.sms"):
        sms_backend().send(phone="+79991234567", text="Your code: 1234", code="1234")
    assert "Your code: 1234" in caplog.text


def test_demo_backend_without_debug_is_a_system_check_error(settings):
    settings.SMS_BACKEND = "demo"
    settings.DEBUG = False
    settings.DEMO_MODE = False
    assert "auth_flow.E001" in [message.id for message in run_checks()]
    settings.SMS_BACKEND = "auth_flow.sms.DemoBackend"
    assert "auth_flow.E001" in [message.id for message in run_checks()]
    settings.DEMO_MODE = True
    assert "auth_flow.E001" not in [message.id for message in run_checks()]


def test_a_limit_of_zero_is_a_system_check_error(settings):
    settings.OTP_IP_HOURLY = 0
    assert "auth_flow.E002" in [message.id for message in run_checks()]


@pytest.mark.django_db
def test_demo_backend_reveals_no_code_without_debug_or_demo_mode(settings, client):
    settings.SMS_BACKEND = "demo"
    settings.DEBUG = False
    settings.DEMO_MODE = False
    api = client.post(
        "/api/v1/auth/code/", {"phone": "+79991234001"}, content_type="application/json"
    )
    assert api.status_code == 202
    assert "demo_code" not in api.json()
    page = client.post("/auth/phone/", {"phone": "+79991234002"})
    assert "data-demo-code" not in page.content.decode()
    settings.DEMO_MODE = True
    api = client.post(
        "/api/v1/auth/code/", {"phone": "+79991234003"}, content_type="application/json"
    )
    assert len(api.json()["demo_code"]) == 4
