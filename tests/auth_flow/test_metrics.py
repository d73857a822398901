"""What sign-in tells the metrics (core/metrics.py): code requests, sends, breaker, budgets."""

import pytest
from prometheus_client import REGISTRY

from auth_flow.sms import BaseBackend, ProviderError
from auth_flow.sms.breaker import breakers_reset

TOKEN = "metrics-token-for-the-tests-0123456789"


class BrokenBackend(BaseBackend):
    """A provider that fails every send, as a gateway answering 500s does."""

    name = "broken"

    def send(self, *, phone: str, text: str, code: str):
        raise ProviderError(self.name, "HTTP 500")


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture(autouse=True)
def _fresh_breakers():
    breakers_reset()
    yield
    breakers_reset()


@pytest.mark.django_db
def test_code_requests_are_counted_by_outcome_and_sends_by_provider(api, new_phone):
    sent = _value("referral_code_requests_total", outcome="sent")
    cooldown = _value("referral_code_requests_total", outcome="resend_cooldown")
    locmem = _value("referral_sms_sends_total", provider="locmem", outcome="sent")
    phone = new_phone()

    assert api.post("/api/v1/auth/code/", {"phone": phone}, format="json").status_code == 202
    assert api.post("/api/v1/auth/code/", {"phone": phone}, format="json").status_code == 429

    assert _value("referral_code_requests_total", outcome="sent") == sent + 1
    assert _value("referral_code_requests_total", outcome="resend_cooldown") == cooldown + 1
    assert _value("referral_sms_sends_total", provider="locmem", outcome="sent") == locmem + 1
    assert _value("referral_sms_send_duration_seconds_count", provider="locmem") >= 1


@pytest.mark.django_db
def test_failed_sends_and_an_open_breaker_show(api, new_phone, settings):
    settings.SMS_BACKEND = "tests.auth_flow.test_metrics.BrokenBackend"
    settings.SMS_BREAKER_FAILURES = 2
    failed = _value("referral_sms_sends_total", provider="broken", outcome="failed")
    for _ in range(3):
        answer = api.post("/api/v1/auth/code/", {"phone": new_phone()}, format="json")
        assert answer.status_code == 503

    assert _value("referral_sms_sends_total", provider="broken", outcome="failed") == failed + 2
    assert _value("referral_sms_sends_total", provider="broken", outcome="circuit_open") >= 1
    assert _value("referral_sms_breaker_state", provider="broken") == 2
    assert _value("referral_code_requests_total", outcome="sms_unavailable") >= 3


@pytest.mark.django_db
def test_the_scrape_shows_the_hours_budget_used_and_its_limit(api, client, new_phone, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.OTP_GLOBAL_HOURLY = 500
    for _ in range(2):
        api.post("/api/v1/auth/code/", {"phone": new_phone()}, format="json")

    text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()

    assert 'referral_sms_budget_used{budget="global"} 2.0' in text
    assert 'referral_sms_budget_limit{budget="global"} 500.0' in text
    assert 'referral_sms_budget_used{budget="cc:7"} 2.0' in text
