"""Figures of the rewards read at scrape time (core/metrics.py): grants by state.

Read from the ledger at each scrape, whichever worker answers it, so the figure is
the same from every worker and never added up across them.
"""

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily

from core.metrics import gauge_by_label
from rewards.selectors import grants_count_by_state


def grants_collect() -> Iterator[GaugeMetricFamily]:
    yield gauge_by_label(
        "referral_reward_grants",
        "Reward grants in the ledger by state (pending, approved, fulfilled, voided).",
        "state",
        grants_count_by_state(),
    )
