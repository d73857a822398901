"""core.db's rows_insert: one INSERT for a few new rows, as the ORM would store them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.db import rows_insert
from rewards.models import Grant

pytestmark = pytest.mark.django_db


def test_rows_insert_writes_only_the_columns_a_row_sets_and_stores_what_the_orm_would(
    make_member,
):
    member, referral = make_member(), make_member()
    now = timezone.now()
    shared = {"amount": 5, "unit": "points", "activated_at": now, "available_at": now}
    rows = [
        Grant(member=member, kind="referrer", referral=referral, referral_key="k1",
              created_at=now, **shared),
        Grant(member=member, kind="milestone", milestone=3, state="voided", reason="cap",
              voided_at=now, created_at=now, **shared),
    ]  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        rows_insert(rows)
    [insert] = [q["sql"] for q in queries if q["sql"].startswith("INSERT")]
    # NULL in every row: left to the database; set in one row: written for both.
    assert "approved_at" not in insert and "fulfilled_by_id" not in insert
    assert "voided_at" in insert and "milestone" in insert and "referral_id" in insert
    stored = {g.pk: g for g in Grant.objects.filter(pk__in=[r.pk for r in rows])}
    first, second = stored[rows[0].pk], stored[rows[1].pk]
    assert (first.kind, first.referral_id, first.milestone, first.voided_at) == (
        "referrer", referral.pk, None, None
    )  # fmt: skip
    assert (first.state, first.reason, first.created_at, first.amount) == ("pending", "", now, 5)
    assert (second.referral_id, second.referral_key, second.milestone) == (None, "", 3)
    assert (second.state, second.reason, second.voided_at) == ("voided", "cap", now)
    assert all(not r._state.adding for r in rows)
