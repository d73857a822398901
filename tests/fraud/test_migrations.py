"""Fraud flags moved from the console to the fraud app: a database migrated before
the move keeps its flags, their permissions and the judging's mark."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("staff_console", "0001_fraud_flags"), ("fraud", None)]


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


@pytest.fixture(autouse=True)
def _latest_after():
    """Whatever a test leaves, the next one finds the database fully migrated."""
    yield
    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_flags_made_before_the_move_are_the_fraud_apps_after_it():
    executor = _executor()
    executor.migrate(BEFORE)
    executor = _executor()
    old = executor.loader.project_state(list(executor.loader.applied_migrations)).apps
    User = old.get_model("profiles", "User")
    inviter = User.objects.create(phone="+79990003000", invite_code="CCCCCC")
    now = timezone.now()
    old.get_model("staff_console", "FraudFlag").objects.create(
        reason="burst", inviter=inviter, evidence=[{"member": 1}], raised_at=now, updated_at=now
    )
    old.get_model("staff_console", "ScanMark").objects.create(
        name="fraud_flags", scanned_to=now, last_pk=7
    )
    ContentType = old.get_model("contenttypes", "ContentType")
    Permission = old.get_model("auth", "Permission")
    flag_type = ContentType.objects.get(app_label="staff_console", model="fraudflag")
    permission = Permission.objects.get(content_type=flag_type, codename="change_fraudflag")
    inviter.user_permissions.add(permission)

    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from fraud.models import FraudFlag, JudgingMark
    from profiles.models import User as Member

    [flag] = FraudFlag.objects.all()
    assert (flag.reason, flag.inviter_id, flag.evidence) == ("burst", inviter.pk, [{"member": 1}])
    mark = JudgingMark.objects.get(name="fraud_flags")
    assert (mark.scanned_to, mark.last_pk) == (now, 7)
    assert Member.objects.get(pk=inviter.pk).has_perm("fraud.change_fraudflag")
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    assert "fraud_fraudflag" in tables and "staff_console_fraudflag" not in tables


def test_the_move_runs_back_and_forth_on_an_empty_database():
    executor = _executor()
    executor.migrate([("staff_console", None), ("fraud", None)])
    with connection.cursor() as cursor:
        assert "fraud_fraudflag" not in connection.introspection.table_names(cursor)
    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())
    from fraud.models import FraudFlag

    assert FraudFlag.objects.count() == 0
    with connection.cursor() as cursor:
        assert "fraud_fraudflag" in connection.introspection.table_names(cursor)
