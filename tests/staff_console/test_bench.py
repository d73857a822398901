"""bench/console.py's seed, small: the console answers every page over it and the
rules find the patterns it plants. The figures themselves live in the bench."""

import pytest

from bench.console import seed, seed_grants
from fraud.models import FraudFlag
from fraud.services import flags_refresh
from rewards.models import Grant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_the_bench_seed_serves_every_console_page(staff_client):
    seed(members=40, challenges=10, roots=5)  # the second seed starts after existing ids
    seed(members=400, challenges=300, roots=50)
    while flags_refresh(limit=200) == 200:
        pass
    assert FraudFlag.objects.filter(reason="burst").exists()
    assert FraudFlag.objects.filter(reason="same_ip").exists()
    for path in ("/staff/?range=today", "/staff/?range=90d", "/staff/flags/?reason=burst"):
        assert staff_client.get(path).status_code == 200
    fragment = staff_client.get("/staff/?range=30d", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    rows = b"".join(staff_client.get("/staff/export.csv").streaming_content).count(b"\n")
    assert rows == 1 + 45 + 450 + 1  # header, the seeds, the operator


def test_the_grants_seed_fills_the_rewards_queues():
    seed(members=60, challenges=0, roots=5)
    assert seed_grants(100) == 100
    assert set(Grant.objects.values_list("state", flat=True)) >= {"pending", "approved"}
