"""Grants by state on /metrics (rewards/metrics.py), read from the ledger at scrape time."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rewards.models import Grant
from rewards.services import grant_approve, grant_fulfil, grant_void
from tests.scrape import scrape, value

pytestmark = pytest.mark.django_db


def _grants(client, settings) -> dict[str, float]:
    scraped = scrape(client, settings)
    return {state: value(scraped, "referral_reward_grants", state=state) for state in Grant.State}


def test_a_scrape_counts_the_grants_in_each_state(
    client, settings, program, activate, make_member, judged
):
    program()
    assert _grants(client, settings) == {"pending": 0, "approved": 0, "fulfilled": 0, "voided": 0}
    inviter = make_member()
    for _ in range(3):
        activate(make_member(), inviter)  # a referrer's grant and a friend's each
    judged()
    grants = list(Grant.objects.order_by("pk"))
    grant_approve(grant=grants[0])
    grant_fulfil(grant=grant_approve(grant=grants[1]))
    grant_void(grant=grants[2], reason=Grant.VoidReason.STAFF)

    assert _grants(client, settings) == {"pending": 3, "approved": 1, "fulfilled": 1, "voided": 1}


def test_the_grants_cost_one_query_per_scrape(client, settings, program, activate, make_member):
    program()
    activate(make_member(), make_member())
    settings.METRICS_TOKEN = "t" * 32
    with CaptureQueriesContext(connection) as queries:
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + "t" * 32)
    assert len([q for q in queries if "rewards_grant" in q["sql"]]) == 1
