"""Reads of the operator's console: stats for a range, the daily chart, the
leaderboard, suspended members and the CSV export's rows.

Every figure is an aggregate in the database over an indexed range; nothing
loads members into Python except a page of them.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.paginator import Page
from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from auth_flow.models import Challenge
from core.pagination import counted_page, page_index
from fraud.models import FraudFlag
from profiles.models import MemberDeletion, User
from staff_console.models import DailyCodeStat, ScanMark

LEADERBOARD_PAGE_SIZE = 20
# More pages than any programme has members; keeps OFFSET well inside bigint.
LEADERBOARD_MAX_PAGE = 10**9
SUSPENDED_SHOWN = 50
EXPORT_CHUNK = 2000
# Suspended is inactive: `suspended_at` stays set after a reactivation (it keeps
# the older sessions dead, see User._get_session_auth_hash), so it alone would
# still list a member who was let back in. The suspended_at condition lets the
# partial index user_suspended_idx find the few rows.
SUSPENDED = Q(suspended_at__isnull=False, is_active=False)


@dataclass(frozen=True)
class Range:
    key: str
    days: int
    label: Any

    def start(self, now: datetime | None = None) -> datetime:
        """Local midnight `days - 1` days ago: "7 days" is today and the six before."""
        local = timezone.localtime(now or timezone.now())
        first = local.date() - timedelta(days=self.days - 1)
        return timezone.make_aware(datetime.combine(first, datetime.min.time()))

    def days_list(self, now: datetime | None = None) -> list[date]:
        first = self.start(now).date()
        return [first + timedelta(days=n) for n in range(self.days)]


RANGES = {
    r.key: r
    for r in (
        Range("today", 1, _("Today")),
        Range("7d", 7, _("7 days")),
        Range("30d", 30, _("30 days")),
        Range("90d", 90, _("90 days")),
    )
}
DEFAULT_RANGE = "7d"


def range_get(key: str | None) -> Range:
    return RANGES.get(key or "", RANGES[DEFAULT_RANGE])


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Stats:
    members: int
    suspended: int
    new_members: int
    new_activated: int
    activations: int
    codes_sent: int
    sign_ins: int
    # (provider, codes sent, of which refunded), most codes first.
    per_provider: list[tuple[str, int, int]] = field(default_factory=list)
    # Members who deleted their account in the range (profiles.MemberDeletion: counts only).
    deletions: int = 0

    @property
    def sign_in_conversion(self) -> float | None:
        """Sign-ins per code sent."""
        return _ratio(self.sign_ins, self.codes_sent)

    @property
    def activation_rate(self) -> float | None:
        """The share of the range's new members who entered a friend's code."""
        return _ratio(self.new_activated, self.new_members)


def stats_get(*, period: Range, now: datetime | None = None) -> Stats:
    """The range's figures in five queries. Suspended members are counted apart;
    staff (operators, not members of the programme) are not counted."""
    start = period.start(now)
    active = Q(is_active=True, is_staff=False)
    members = User.objects.aggregate(
        members=Count("pk", filter=active),
        suspended=Count("pk", filter=SUSPENDED),
        new_members=Count("pk", filter=active & Q(date_joined__gte=start)),
        new_activated=Count(
            "pk", filter=active & Q(date_joined__gte=start, activated_at__isnull=False)
        ),
        activations=Count("pk", filter=active & Q(activated_at__gte=start)),
    )
    codes = code_counts(start=start)
    return Stats(
        **members,
        deletions=MemberDeletion.objects.filter(deleted_at__gte=start).count(),
        codes_sent=sum(sent for sent, _, _ in codes.values()),
        sign_ins=sum(used for _, used, _ in codes.values()),
        per_provider=sorted(
            ((provider, sent, refunded) for provider, (sent, _, refunded) in codes.items()),
            key=lambda item: (-item[1], item[0]),
        ),
    )


def code_counts(*, start: datetime) -> dict[str, tuple[int, int, int]]:
    """(codes sent, sign-ins, refunded) per provider since `start`: the daily counts
    up to the last rollup, live challenges after it (three queries).

    A failed send is not a code sent. Sign-ins are the codes used. Refunded: sent,
    but not billed (Telegram could not deliver them within their lifetime).
    """
    mark = ScanMark.objects.filter(name="code_counts").values_list("scanned_to", flat=True).first()
    totals: dict[str, list[int]] = {}
    live_from = start
    if mark and mark > start:
        live_from = mark
        rolled = (
            DailyCodeStat.objects.filter(day__gte=timezone.localtime(start).date())
            .values("provider")
            .annotate(sent=Sum("codes_sent"), used=Sum("sign_ins"), refunded=Sum("refunded"))
        )
        for row in rolled:
            totals[row["provider"]] = [row["sent"], row["used"], row["refunded"]]
    live = (
        Challenge.objects.filter(created_at__gt=live_from)
        .values("provider")
        .annotate(
            sent=Count("pk", filter=~Q(delivery=Challenge.Delivery.FAILED)),
            used=Count("pk", filter=Q(state=Challenge.State.USED)),
            refunded=Count("pk", filter=Q(refunded=True)),
        )
    )
    for row in live:
        got = totals.setdefault(row["provider"], [0, 0, 0])
        got[0] += row["sent"]
        got[1] += row["used"]
        got[2] += row["refunded"]
    return {provider: tuple(counts) for provider, counts in totals.items() if any(counts[:2])}


@dataclass(frozen=True)
class Day:
    day: date
    new_members: int
    activations: int


def _per_day(field: str, start: datetime) -> dict[date, int]:
    """Counted members (active, not staff) by the day of `field`, from `start` on."""
    return dict(
        User.objects.filter(**{f"{field}__gte": start}, is_active=True, is_staff=False)
        .annotate(day=TruncDate(field))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )


def day_counts_list(*, period: Range, now: datetime | None = None) -> list[Day]:
    """New members and activations per day of the range, days without any as zero.

    Two grouped queries. Drawing them is the console's chart (staff_console/chart.py).
    """
    start = period.start(now)
    joined = _per_day("date_joined", start)
    activated = _per_day("activated_at", start)
    return [Day(d, joined.get(d, 0), activated.get(d, 0)) for d in period.days_list(now)]


@dataclass(frozen=True)
class Leader:
    id: int
    phone: str
    invite_code: str
    direct: int
    second_level: int


def leaderboard_page(
    *, period: Range, number: int | str | None = 1, now: datetime | None = None
) -> Page:
    """Top inviters by referrals who joined in the range, with their referrals'
    own referrals in the range: one query per page (the total rides along as a
    window count). A page past the end shows the last one, as Paginator.get_page
    does; that costs two more queries, on a hand-made URL only."""
    # Capped before it becomes an OFFSET: ?page=10**20 is out of bigint's range.
    index = page_index(number, last=LEADERBOARD_MAX_PAGE)
    start = period.start(now)
    table = User._meta.db_table
    # The page is cut before the second level is counted, so that only its 20
    # inviters' children are read; the total is a window count over all of them.
    # Suspended inviters are left out through their partial index (a few rows),
    # not by joining every member.
    sql = f"""
        WITH direct AS (
            SELECT referred_by_id AS inviter_id, COUNT(*) AS n
            FROM {table}
            WHERE activated_at >= %s AND referred_by_id IS NOT NULL AND is_active
            GROUP BY referred_by_id
        ), ranked AS (
            SELECT d.inviter_id, d.n, COUNT(*) OVER () AS total
            FROM direct d
            WHERE d.inviter_id NOT IN (
                SELECT id FROM {table} WHERE suspended_at IS NOT NULL AND NOT is_active
            )
            ORDER BY d.n DESC, d.inviter_id
            LIMIT %s OFFSET %s
        ), second AS (
            SELECT c.referred_by_id AS inviter_id, SUM(d2.n) AS n
            FROM ranked r
            JOIN {table} c ON c.referred_by_id = r.inviter_id
            JOIN direct d2 ON d2.inviter_id = c.id
            GROUP BY c.referred_by_id
        )
        SELECT u.id, u.phone, u.invite_code, r.n, COALESCE(s.n, 0), r.total
        FROM ranked r
        JOIN {table} u ON u.id = r.inviter_id
        LEFT JOIN second s ON s.inviter_id = r.inviter_id
        ORDER BY r.n DESC, u.id
    """  # noqa: S608 - the table name is ours, values are parameters

    def read(page: int) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, [start, LEADERBOARD_PAGE_SIZE, (page - 1) * LEADERBOARD_PAGE_SIZE])
            return cursor.fetchall()

    rows = read(index)
    if not rows and index > 1:
        # Past the end: the first page tells the total, then the last page is read.
        first = read(1)
        last = max(1, -(-(first[0][5] if first else 0) // LEADERBOARD_PAGE_SIZE))
        index = last
        rows = first if last == 1 else read(last)
    total = rows[0][5] if rows else 0
    leaders = [Leader(r[0], str(r[1]), r[2], r[3], int(r[4])) for r in rows]
    return counted_page(leaders, index=index, per_page=LEADERBOARD_PAGE_SIZE, count=total)


def suspended_list() -> tuple[list[User], int]:
    """The newest suspensions and how many there are, apart from the counts."""
    suspended = User.objects.filter(SUSPENDED)
    return list(suspended.order_by("-suspended_at")[:SUSPENDED_SHOWN]), suspended.count()


@dataclass(frozen=True)
class ExportRow:
    phone: str
    invite_code: str
    inviter_code: str
    joined: datetime
    activated: datetime | None
    direct: int
    second_level: int
    open_flags: str


def export_rows(*, chunk: int = EXPORT_CHUNK) -> Iterator[ExportRow]:
    """Every member, by id, `chunk` at a time: four queries per chunk and never
    more than a chunk in memory (keyset pagination, not OFFSET)."""
    last = 0
    while True:
        members = list(
            User.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list(
                "pk",
                "phone",
                "invite_code",
                "referred_by__invite_code",
                "date_joined",
                "activated_at",
            )[:chunk]
        )
        if not members:
            return
        ids = [m[0] for m in members]
        direct = dict(
            User.objects.filter(referred_by__in=ids)
            .values("referred_by")
            .annotate(n=Count("pk"))
            .values_list("referred_by", "n")
        )
        second = dict(
            User.objects.filter(referred_by__referred_by__in=ids)
            .values("referred_by__referred_by")
            .annotate(n=Count("pk"))
            .values_list("referred_by__referred_by", "n")
        )
        flags: dict[int, list[str]] = {}
        for inviter, reason in (
            FraudFlag.objects.filter(inviter__in=ids, status=FraudFlag.Status.OPEN)
            .order_by("inviter", "reason")
            .values_list("inviter", "reason")
            .distinct()
        ):
            flags.setdefault(inviter, []).append(reason)
        for pk, phone, code, inviter_code, joined, activated in members:
            yield ExportRow(
                phone=str(phone),
                invite_code=code,
                inviter_code=inviter_code or "",
                joined=joined,
                activated=activated,
                direct=direct.get(pk, 0),
                second_level=second.get(pk, 0),
                open_flags=" ".join(flags.get(pk, [])),
            )
        last = ids[-1]
