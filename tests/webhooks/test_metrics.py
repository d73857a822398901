"""Webhook delivery on /metrics (webhooks/metrics.py), read from the delivery log at
scrape time: messages by state, endpoints switched off, how far delivery is behind."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.scrape import TOKEN, scrape, value
from tests.webhooks.test_delivery import FakeEvent, fan_out
from webhooks import services
from webhooks.models import Endpoint, Message

pytestmark = pytest.mark.django_db


def _messages(scraped) -> dict[str, float]:
    return {s: value(scraped, "referral_webhook_messages", state=s) for s in Message.State}


def test_a_scrape_counts_deliveries_by_outcome(client, settings, receiver):
    settings.WEBHOOK_RETRY_SCHEDULE = []
    assert _messages(scrape(client, settings)) == {"pending": 0, "delivered": 0, "failed": 0}
    receiver.plan = [200, 500]
    services.endpoint_create(url=receiver.url, event_types="*")
    delivered, failed, waiting = (fan_out(FakeEvent("member.created", {}))[0] for _ in range(3))
    assert services.message_deliver(message_id=delivered.pk) == "delivered"
    assert services.message_deliver(message_id=failed.pk) == "failed"

    scraped = scrape(client, settings)
    assert _messages(scraped) == {"pending": 1, "delivered": 1, "failed": 1}
    # Just queued: due now, not late yet.
    assert value(scraped, "referral_webhook_overdue_seconds") < 60
    assert waiting.state == "pending"


def test_a_stalled_delivery_shows_how_late_it_is(client, settings, receiver):
    services.endpoint_create(url=receiver.url, event_types="*")
    (message,) = fan_out(FakeEvent("member.created", {}))
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=20)
    )
    assert 1190 <= value(scrape(client, settings), "referral_webhook_overdue_seconds") <= 1300
    # A retry waiting for its time is not late.
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=20)
    )
    assert value(scrape(client, settings), "referral_webhook_overdue_seconds") == 0


def test_endpoints_switched_off_for_failing_are_told_from_staffs(client, settings, receiver):
    on, _ = services.endpoint_create(url=receiver.url, event_types="*")
    by_staff, _ = services.endpoint_create(url=receiver.url, event_types="*")
    failing, _ = services.endpoint_create(url=receiver.url, event_types="*")
    services.endpoint_disable(endpoint=by_staff)
    services.endpoint_disable(endpoint=failing, reason=Endpoint.DisabledReason.FAILING)
    scraped = scrape(client, settings)
    assert {
        status: value(scraped, "referral_webhook_endpoints", status=status)
        for status in ("enabled", "disabled_staff", "disabled_failing")
    } == {"enabled": 1, "disabled_staff": 1, "disabled_failing": 1}


def test_the_delivery_figures_cost_two_queries_per_scrape(client, settings, receiver):
    services.endpoint_create(url=receiver.url, event_types="*")
    fan_out(FakeEvent("member.created", {}))
    settings.METRICS_TOKEN = TOKEN
    with CaptureQueriesContext(connection) as queries:
        client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    webhook_queries = [q for q in queries if "webhooks_" in q["sql"]]
    assert len(webhook_queries) == 2, [q["sql"] for q in webhook_queries]
