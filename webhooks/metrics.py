"""Figures of webhook delivery read at scrape time (core/metrics.py).

Deliveries run in queue workers, which serve no /metrics, so a counter kept there
would never be scraped: the outcomes are read from the delivery log instead, at
each scrape, whichever app worker answers it (the same figure from every worker,
never added up across them). The log keeps WEBHOOK_LOG_DAYS, so the counts stay
bounded.
"""

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily

from core.metrics import gauge_by_label
from webhooks.selectors import delivery_figures


def delivery_collect() -> Iterator[GaugeMetricFamily]:
    figures = delivery_figures()
    yield gauge_by_label(
        "referral_webhook_messages",
        "Webhook messages in the kept log by state (pending, delivered, failed).",
        "state",
        figures.messages,
    )
    yield gauge_by_label(
        "referral_webhook_endpoints",
        "Webhook endpoints by status (enabled, disabled_staff, disabled_failing).",
        "status",
        figures.endpoints,
    )
    yield GaugeMetricFamily(
        "referral_webhook_overdue_seconds",
        "How late the most overdue pending webhook try is, in seconds (0: none).",
        value=figures.overdue_seconds,
    )
