"""The ledger's indexes: what a new grant costs to write, and the reads they serve."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from profiles.models import User
from rewards import selectors
from rewards.models import Grant
from tests.conftest import plan_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def indexes_holding(grant: Grant) -> set[str]:
    """The indexes of rewards_grant that hold `grant`'s row: all but the partial ones
    whose condition it does not meet."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_expr(indpred, indrelid) FROM pg_index"
            " WHERE indrelid = 'rewards_grant'::regclass"
        )
        indexes = cursor.fetchall()
        held = set()
        for name, condition in indexes:
            cursor.execute(
                f"SELECT 1 FROM rewards_grant WHERE id = %s AND ({condition or 'true'})",  # noqa: S608 - the catalog's own text
                [grant.pk],
            )
            if cursor.fetchone():
                held.add(name)
    return held


def test_a_new_grant_enters_only_the_indexes_that_serve_it(program, activate, make_member):
    # Every activation writes two or three grants: each index a pending grant enters
    # is paid for by every activation. Who approved, paid or voided it is NULL on a
    # new grant; its member is in grant_member_idx; fulfilled and voided are listed
    # by grant_state_idx, pending and approved from their queue indexes.
    program()
    inviter, friend = make_member(), make_member()
    activate(friend, inviter)
    grant = Grant.objects.get(member_id=inviter.pk)
    referral_index = next(
        name for name in indexes_holding(grant) if name.startswith("rewards_grant_referral_id")
    )
    assert indexes_holding(grant) == {
        "rewards_grant_pkey",
        "grant_one_per_referral",
        "grant_member_idx",
        "grant_due_idx",
        "grant_state_count_idx",
        "grant_queue_pending_idx",
        referral_index,
    }


def staff_lookup(column: str):  # noqa: ANN201
    # What deleting a staff account reads (SET NULL): its grants, by id.
    return lambda staff: list(Grant.objects.filter(**{f"{column}__in": [staff.pk]}))


READS = {
    "grant_approved_by_idx": staff_lookup("approved_by_id"),
    "grant_fulfilled_by_idx": staff_lookup("fulfilled_by_id"),
    "grant_voided_by_idx": staff_lookup("voided_by_id"),
    "grant_member_idx": lambda staff: list(selectors.grants_of_member(member=staff)),
    "grant_queue_pending_idx": lambda staff: list(
        selectors.grants_list(state="pending").values_list("pk", flat=True)[:50]
    ),
    "grant_queue_approved_idx": lambda staff: list(
        selectors.grants_list(state="approved").values_list("pk", flat=True)[:50]
    ),
}


@pytest.mark.django_db(transaction=True)  # ANALYZE as a live table has it
@pytest.mark.parametrize("index", READS)
def test_the_reads_of_the_dropped_indexes_find_another(index, make_member):
    staff, member = make_member(), make_member()
    now = timezone.now()
    Grant.objects.bulk_create(
        Grant(member=member, kind="referrer", referral_key=f"k{n}", amount=1, unit="points",
              state=state, activated_at=now, available_at=now, created_at=now, **stamps)
        for n, (state, stamps) in enumerate(
            [("pending", {})] * 300
            + [("approved", {"approved_at": now, "approved_by": staff})] * 300
            + [("voided", {"voided_at": now, "voided_by": staff, "reason": "staff"})] * 300
            + [("fulfilled", {"approved_at": now, "fulfilled_at": now, "fulfilled_by": staff})]
        )
    )  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        READS[index](User.objects.get(pk=member.pk if index == "grant_member_idx" else staff.pk))
    sql = queries.captured_queries[-1]["sql"]
    plan = plan_of(sql, prepare="ANALYZE rewards_grant", rule_out=("seqscan",))
    assert f" on {index}" in plan or f"using {index}" in plan, plan
