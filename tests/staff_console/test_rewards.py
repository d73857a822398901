"""The console's rewards screen: the queues, approve / void / fulfil by staff with the
permission, the program's cost, the grants as CSV; GET writes nothing."""

import csv
import io
import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.staff import PASSWORD_BACKEND
from fraud.models import FraudFlag
from rewards import selectors as rewards_selectors
from rewards.models import Grant
from rewards.services import grants_approve_due
from tests.conftest import plan_of
from tests.rewards.conftest import activate, judged, program  # noqa: F401 - fixtures
from tests.staff_console.conftest import staff_with

pytestmark = pytest.mark.django_db
URL = "/staff/rewards/"


@pytest.fixture
def rewards_staff(client: Client) -> Client:
    user = staff_with("+79990000011")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="rewards", codename__in=["view_grant", "change_grant"]
        )
    )
    client.force_login(user, backend=PASSWORD_BACKEND)
    return client


@pytest.fixture
def granted(program, activate, judged, make_member):  # noqa: F811
    """Two referrals into one inviter: four grants, approved (no hold)."""
    program(referrer_amount=100, friend_amount=50)
    inviter = make_member("+79991250001")
    friends = [make_member(f"+7999125000{n}") for n in (2, 3)]
    for friend in friends:
        activate(friend, inviter)
    judged()
    grants_approve_due()
    return inviter, friends


def test_staff_without_the_permission_get_403(client, plain_staff, granted):
    client.force_login(plain_staff, backend=PASSWORD_BACKEND)
    assert client.get(URL).status_code == 403
    grant = Grant.objects.first()
    assert client.post(f"{URL}{grant.pk}/void/").status_code == 403
    assert Grant.objects.get(pk=grant.pk).state == "approved"


def test_the_approved_queue_and_the_cost_of_the_range(rewards_staff, granted):
    html = rewards_staff.get(URL).content.decode()
    assert html.count('data-grant-state="approved"') == 4
    assert re.search(r'data-stat="program_cost" data-unit="points" data-value="300"', html)
    assert "+7 999 125-00-02" in html


def test_a_get_writes_nothing(rewards_staff, granted):
    with CaptureQueriesContext(connection) as queries:
        assert rewards_staff.get(URL + "?queue=held").status_code == 200
    writes = [q["sql"] for q in queries if re.match(r"\s*(INSERT|UPDATE|DELETE)", q["sql"])]
    # The session's own bookkeeping aside, nothing is written.
    assert [w for w in writes if "django_session" not in w] == []


def test_a_grant_held_by_an_open_flag_is_in_the_held_queue_with_a_link(rewards_staff, granted):
    inviter, friends = granted
    now = timezone.now()
    flag = FraudFlag.objects.create(
        reason="same_ip",
        inviter=inviter,
        subject=friends[0],
        subject_key=str(friends[0].pk),
        raised_at=now,
        updated_at=now,
    )
    held = rewards_staff.get(URL + "?queue=held").content.decode()
    assert f'data-holding-flag="{flag.pk}"' in held
    # The inviter's grant for that referral, and that referral's own friend grant.
    assert held.count("data-grant=") == 2
    approved = rewards_staff.get(URL + "?queue=approved").content.decode()
    assert approved.count("data-grant=") == 2


def test_fulfil_and_void_by_htmx_swap_the_row(rewards_staff, granted):
    first, second = Grant.objects.order_by("pk")[:2]
    answer = rewards_staff.post(f"{URL}{first.pk}/fulfil/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    assert f'id="grant-{first.pk}"' in answer.content.decode()
    assert Grant.objects.get(pk=first.pk).state == "fulfilled"
    # A fulfilled grant is never voided: the row says why, nothing changes.
    refused = rewards_staff.post(f"{URL}{first.pk}/void/", HTTP_HX_REQUEST="true")
    assert refused.status_code == 422
    assert Grant.objects.get(pk=first.pk).state == "fulfilled"
    # Without JavaScript: a plain form post, then back to the queue.
    plain = rewards_staff.post(f"{URL}{second.pk}/void/", {"queue": "approved"})
    assert (plain.status_code, plain["Location"]) == (303, f"{URL}?queue=approved")
    voided = Grant.objects.get(pk=second.pk)
    assert (voided.state, voided.reason) == ("voided", "staff")


def test_an_unknown_action_or_grant_is_404(rewards_staff, granted):
    grant = Grant.objects.first()
    assert rewards_staff.post(f"{URL}{grant.pk}/delete/").status_code == 404
    assert rewards_staff.post(f"{URL}999999/void/").status_code == 404
    assert rewards_staff.get(f"{URL}{grant.pk}/void/").status_code == 405


def test_the_csv_lists_every_grant_formula_safe(rewards_staff, granted):
    answer = rewards_staff.get(URL + "export.csv")
    assert answer.streaming
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert len(rows) == 1 + 4
    member_column = rows[0].index("member")
    assert {row[member_column] for row in rows[1:]} >= {"'+79991250001"}


def test_staff_without_the_flag_permission_cannot_void_rewards_through_a_verdict(
    client, plain_staff, granted
):
    # Found by the review: a fraud verdict voids the rewards the flag touches, so it
    # needs the flag permission, as the void button needs the grant permission.
    inviter, _friends = granted
    client.force_login(plain_staff, backend=PASSWORD_BACKEND)
    now = timezone.now()
    flag = FraudFlag.objects.create(
        reason="burst", inviter=inviter, subject=None, subject_key="", raised_at=now, updated_at=now
    )
    assert client.post(f"/staff/flags/{flag.pk}/review/", {"status": "fraud"}).status_code == 403
    assert set(Grant.objects.values_list("state", flat=True)) == {"approved"}


def ledger_of(member, count: int, *, state: str = "approved", unit: str = "points") -> list[Grant]:
    """`count` referrer grants of `member` in `state`, one second apart (newest last)."""
    first = Grant.objects.count()
    now = timezone.now()
    stamps = {"approved": {"approved_at": now}, "pending": {}}[state]
    return Grant.objects.bulk_create(
        Grant(member=member, kind="referrer", referral_key=f"k{first + n}", amount=10, unit=unit,
              state=state, activated_at=now, available_at=now,
              created_at=now - timezone.timedelta(seconds=count - n), **stamps)
        for n in range(count)
    )  # fmt: skip


def test_a_later_page_reads_ids_from_the_queue_then_only_its_rows(rewards_staff, make_member):
    # At 200,000 grants one query with the joins and the flag lookup built every row
    # an OFFSET skips (13 s for page 1,000): the pager skips over ids alone now.
    grants = ledger_of(make_member(), 55)
    with CaptureQueriesContext(connection) as queries:
        html = rewards_staff.get(URL + "?queue=approved&page=2").content.decode()
    shown = [int(pk) for pk in re.findall(r'data-grant="(\d+)"', html)]
    assert shown == [g.pk for g in reversed(grants[:5])], "the oldest five, newest first"
    assert 'data-grant-count="55"' in html and "Page 2 of 2" in html
    grant_reads = [q["sql"] for q in queries if 'FROM "rewards_grant"' in q["sql"]]
    skipping = [sql for sql in grant_reads if "OFFSET" in sql]
    assert len(skipping) == 1
    assert re.match(
        r'SELECT "rewards_grant"."id"( AS "pk")? FROM "rewards_grant" WHERE', skipping[0]
    )
    assert "JOIN" not in skipping[0] and "fraud_fraudflag" not in skipping[0]
    assert not any("fraud_fraudflag" in sql for sql in grant_reads), "no per-row flag lookup"


def test_a_held_grant_links_the_first_open_flag_that_touches_it(rewards_staff, granted):
    inviter, friends = granted
    now = timezone.now()
    about_inviter = FraudFlag.objects.create(
        reason="burst", inviter=inviter, raised_at=now, updated_at=now
    )
    about_friend = FraudFlag.objects.create(
        reason="same_ip", inviter=inviter, subject=friends[0], subject_key=str(friends[0].pk),
        raised_at=now, updated_at=now,
    )  # fmt: skip
    FraudFlag.objects.create(reason="fast_activation", inviter=inviter, subject=friends[0],
                             subject_key="x", raised_at=now, updated_at=now,
                             status="reviewed", reviewed_at=now)  # fmt: skip

    html = rewards_staff.get(URL + "?queue=held").content.decode()

    rows = dict(re.findall(r'data-grant="(\d+)".*?(?:data-holding-flag="(\d+)"|</tr>)', html, re.S))
    friend_own = Grant.objects.get(member=friends[0], kind="friend")
    for_inviter = Grant.objects.filter(member=inviter)
    assert set(rows) == {str(g.pk) for g in [friend_own, *for_inviter]}
    assert rows[str(friend_own.pk)] == str(about_friend.pk), "only the flag about the referral"
    assert {rows[str(g.pk)] for g in for_inviter} == {str(about_inviter.pk)}, "the first of two"
    assert 'data-grant-count="3"' in html


def test_the_htmx_tab_leaves_the_cost_card_out(rewards_staff, granted):
    with CaptureQueriesContext(connection) as queries:
        fragment = rewards_staff.get(URL + "?queue=pending", headers={"HX-Request": "true"})
    assert 'id="grant-list"' in fragment.content.decode()
    assert "program_cost" not in fragment.content.decode()
    assert not any("SUM(" in q["sql"] for q in queries)


INDEXED_READS = {
    "grant_queue_approved_idx": lambda: rewards_selectors.grants_queue(queue="approved").count(),
    "grant_queue_pending_idx (page 3)": lambda: list(
        rewards_selectors.grants_queue(queue="pending").values_list("pk", flat=True)[100:150]
    ),
    "grant_cost_idx": lambda: rewards_selectors.program_cost(
        start=timezone.now() - timezone.timedelta(days=7), end=timezone.now()
    ),
}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # VACUUM runs outside a transaction
@pytest.mark.parametrize("index", INDEXED_READS)
def test_the_queues_and_the_cost_card_read_their_index_alone(index, make_member):
    # As a live table is (vacuumed: the visibility map set, statistics fresh), with
    # an open flag so the fraud filter is in the query as in production, and table
    # scans ruled out: the plan shows whether the query still matches its index
    # (condition, order, columns).
    member, inviter = make_member(), make_member()
    ledger_of(member, 1500, state="pending")
    ledger_of(member, 1500)
    now = timezone.now()
    FraudFlag.objects.create(reason="burst", inviter=inviter, raised_at=now, updated_at=now)
    with CaptureQueriesContext(connection) as queries:
        INDEXED_READS[index]()
    sql = queries.captured_queries[-1]["sql"]
    plan = plan_of(sql, prepare="VACUUM ANALYZE rewards_grant", rule_out=("seqscan", "bitmapscan"))
    assert f"Index Only Scan using {index.split()[0]}" in plan, plan


def test_the_csv_streams_every_grant_a_chunk_at_a_time(rewards_staff, make_member):
    member = make_member()
    grants = ledger_of(member, 7, unit="=HYPERLINK(1)")
    rows = list(rewards_selectors.grants_export_rows(chunk=3))
    assert [row[0] for row in rows] == [g.pk for g in grants], "each once, by id"
    with CaptureQueriesContext(connection) as queries:
        answer = rewards_staff.get(URL + "export.csv")
        body = b"".join(answer.streaming_content).decode()
    table = list(csv.reader(io.StringIO(body)))
    assert len(table) == 1 + 7
    assert {row[table[0].index("unit")] for row in table[1:]} == {"'=HYPERLINK(1)"}
    assert {row[table[0].index("member")] for row in table[1:]} == {f"'{member.phone}"}
    assert {row[table[0].index("amount")] for row in table[1:]} == {"10"}, "numbers stay numbers"
    reads = [q["sql"] for q in queries if 'FROM "rewards_grant"' in q["sql"]]
    assert all('"rewards_grant"."id" > ' in sql and "LIMIT" in sql for sql in reads), reads


def test_the_screen_speaks_russian_states_reasons_and_refusals(rewards_staff, granted):
    ru = {"HTTP_ACCEPT_LANGUAGE": "ru", "HTTP_HX_REQUEST": "true"}
    html = rewards_staff.get(URL, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "доступно" in html and "available" not in html
    first, second = Grant.objects.order_by("pk")[:2]
    rewards_staff.post(f"{URL}{first.pk}/fulfil/", **ru)
    refused = rewards_staff.post(f"{URL}{first.pk}/void/", **ru).content.decode()
    assert "Это вознаграждение уже получено; аннулировать его нельзя." in refused
    voided = rewards_staff.post(f"{URL}{second.pk}/void/", **ru).content.decode()
    assert "аннулировано · аннулировано сотрудником" in voided
