"""The referral counter's migration fills in the counts of existing members."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)


def _counter_migration(executor: MigrationExecutor) -> tuple[str, str]:
    names = [n for app, n in executor.loader.disk_migrations if app == "profiles"]
    counters = next(n for n in names if n.endswith("_referral_counters"))
    node = executor.loader.graph.node_map[("profiles", counters)]
    return ("profiles", counters), next(p for p in node.parents if p.key[0] == "profiles").key


def test_migration_backfills_counts_of_existing_referrals():
    executor = MigrationExecutor(connection)
    counters, before = _counter_migration(executor)
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps.get_model("profiles", "User")
    owner = old.objects.create(phone="+79990001000", invite_code="AAAAAA")
    now = timezone.now()
    for i in range(3):
        old.objects.create(
            phone=f"+7999000200{i}", invite_code=f"BBBBB{'ABC'[i]}", referred_by=owner,
            activated_at=now,
        )  # fmt: skip
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([counters])
    new = executor.loader.project_state([counters]).apps.get_model("profiles", "User")
    assert new.objects.get(pk=owner.pk).referrals_count == 3
    assert new.objects.filter(referrals_count=0).count() == 3
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
