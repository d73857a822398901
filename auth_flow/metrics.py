"""Figures of sign-in read at scrape time (core/metrics.py): the hour's SMS budgets.

Budgets live in the database (auth_flow/sms/budgets.py), so every worker answers
a scrape with the same numbers: used and limit of each budget in the current
window (the alert fires at 80 %).
"""

from collections.abc import Iterator

from django.conf import settings
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from auth_flow.sms.budgets import budgets_used


def budgets_collect() -> Iterator[GaugeMetricFamily]:
    used = GaugeMetricFamily(
        "referral_sms_budget_used", "Codes sent this hour from a budget.", labels=["budget"]
    )
    limit = GaugeMetricFamily(
        "referral_sms_budget_limit", "A budget's codes per hour.", labels=["budget"]
    )
    # `global` is the sum of its shards (budgets.py).
    for key, (count, _refused) in sorted(budgets_used(moment=timezone.now()).items()):
        used.add_metric([key], count)
        limit.add_metric([key], _limit_of(key))
    yield used
    yield limit


def _limit_of(key: str) -> int:
    """The whole hour's limit of a budget key (auth_flow/sms/budgets.py, budget_keys)."""
    if key.startswith("cc:"):
        return settings.OTP_REGION_HOURLY
    if key.startswith("px:"):
        return settings.OTP_PREFIX_HOURLY
    return settings.OTP_GLOBAL_HOURLY
