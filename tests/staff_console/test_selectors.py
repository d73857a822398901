"""The console's reads: the leaderboard in one query, the chart's days, the ranges."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from profiles.services import member_suspend
from staff_console.selectors import (
    LEADERBOARD_PAGE_SIZE,
    RANGES,
    day_counts_list,
    leaderboard_page,
    range_get,
)

pytestmark = pytest.mark.django_db


def test_ranges_start_at_local_midnight():
    now = timezone.now()
    today = RANGES["today"].start(now)
    assert timezone.localtime(today).time().isoformat() == "00:00:00"
    assert RANGES["7d"].start(now) == today - timedelta(days=6)
    assert range_get("nonsense") == RANGES["7d"]
    assert len(RANGES["30d"].days_list(now)) == 30


def test_leaderboard_orders_inviters_with_their_second_level_in_one_query(member_at, operator):
    now = timezone.now()
    top, second, old, banned = (member_at(joined=now - timedelta(days=60)) for _ in range(4))
    children = [member_at(inviter=top, activated=now - timedelta(days=1)) for _ in range(3)]
    member_at(inviter=second, activated=now - timedelta(days=2))
    for _ in range(5):  # joined long ago: outside 7 days
        member_at(inviter=old, activated=now - timedelta(days=20))
    for _ in range(4):
        member_at(inviter=banned, activated=now - timedelta(days=1))
    member_suspend(member=banned, by=operator)
    for child in children[:2]:  # grandchildren of `top`
        member_at(inviter=child, activated=now - timedelta(hours=5))

    with CaptureQueriesContext(connection) as ctx:
        page = leaderboard_page(period=RANGES["7d"])
        rows = [(leader.invite_code, leader.direct, leader.second_level) for leader in page]
    assert len(ctx) == 1
    assert rows[:2] == [(top.invite_code, 3, 2), (second.invite_code, 1, 0)]
    assert old.invite_code not in {code for code, *_ in rows}
    assert banned.invite_code not in {code for code, *_ in rows}
    assert page.paginator.count == 4  # top, second and the two children


def test_leaderboard_pages_cost_one_query_each(member_at):
    now = timezone.now()
    for _ in range(LEADERBOARD_PAGE_SIZE + 3):
        member_at(inviter=member_at(), activated=now - timedelta(hours=1))
    with CaptureQueriesContext(connection) as ctx:
        second = leaderboard_page(period=RANGES["today"], number=2)
        assert len(second.object_list) == 3
    assert len(ctx) == 1
    assert second.has_previous() and not second.has_next()
    assert leaderboard_page(period=RANGES["today"], number="x").number == 1


def test_chart_counts_each_day_and_fills_empty_ones(member_at):
    now = timezone.now()
    inviter = member_at(joined=now - timedelta(days=40))
    member_at(joined=now - timedelta(days=2), inviter=inviter, activated=now - timedelta(days=2))
    member_at(joined=now - timedelta(days=2))
    days = day_counts_list(period=RANGES["7d"], now=now)
    assert len(days) == 7
    by_day = {d.day: (d.new_members, d.activations) for d in days}
    two_days_ago = timezone.localtime(now - timedelta(days=2)).date()
    assert by_day[two_days_ago] == (2, 1)
    assert sum(new for new, _ in by_day.values()) == 2
