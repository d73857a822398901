"""Reads of the rewards room: the program, a member's balances (from the ledger,
never kept beside it), milestone progress, and grant lists for staff."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Cast
from django.utils import timezone

from core.db import prepared_cursor
from fraud.models import FraudFlag
from fraud.selectors import open_flags_touching
from profiles.models import User
from rewards.models import Grant, Program


def program_active() -> Program | None:
    return Program.objects.filter(active=True).first()


@dataclass(frozen=True)
class ActivationLedger:
    """What the grants of one activation depend on, as the ledger has it now."""

    program: Program
    referrals: int  # the inviter's referral count, this activation included
    inviter_total: int  # the inviter's live (not voided) grants, ever and this month
    inviter_month: int
    friend_total: int  # the same for the member who entered the code
    friend_month: int
    referrer_done: bool  # the inviter's grant for this referral's phone exists
    friend_done: bool  # a friend grant for this phone exists (whoever's it is)
    milestone_done: bool  # the inviter's milestone grant at `referrals` exists
    # Ids for the grants of this activation, taken from the grants' sequence by the
    # same statement (PostgreSQL; none elsewhere): so their events can name them
    # before they are written, in the statement that writes the events.
    grant_ids: tuple[int, ...] = ()


# The grants one activation can earn: the inviter's, a milestone, the friend's.
GRANTS_MAX = 3

# The program's fields an activation's grants read, in the model's order (Program.from_db).
_TERMS = (
    "id",
    "referrer_amount",
    "friend_amount",
    "milestones",
    "unit",
    "hold_days",
    "monthly_cap",
    "total_cap",
)


def activation_ledger(
    *, member_pk: int, inviter_pk: int, referral_key: str, month_from: datetime
) -> ActivationLedger | None:
    """The active program and the counts an activation's grants are judged on, or
    None without a program: one statement, whatever the answer.

    The program is read afresh in every activation (no per-process copy to go
    stale): a change affects the next activation in every process. It rides in the
    statement that counts the grants, so it costs no round trip of its own. Called
    inside the activation's transaction with the member's and the inviter's rows
    locked, so the counts cannot move before the grants are written. Portable SQL
    (PostgreSQL, SQLite >= 3.30 for FILTER).
    """
    grant, user = Grant._meta.db_table, User._meta.db_table
    program = Program._meta.db_table
    columns = ", ".join(f"p.{name}" for name in _TERMS)
    since = connection.ops.adapt_datetimefield_value(month_from)
    # The kinds and the state are the model's constants, written into the SQL (never
    # user input): so a plan PostgreSQL keeps for this statement (a prepared one)
    # can use the partial unique indexes on them, whatever the values.
    voided, referrer = _literal(Grant.State.VOIDED), _literal(Grant.Kind.REFERRER)
    friend, milestone = _literal(Grant.Kind.FRIEND), _literal(Grant.Kind.MILESTONE)
    live = f"g.state <> {voided}"
    mine, theirs = "g.member_id = %s", "g.member_id = %s"
    # An activation writes at most three grants; ids a replay leaves unused are gaps,
    # as a rolled-back transaction leaves (only the one row with a program takes any).
    ids = (
        ", " + ", ".join([f"nextval(pg_get_serial_sequence('{grant}', 'id'))"] * GRANTS_MAX)
        if connection.vendor == "postgresql"
        else ""
    )
    sql = f"""
        SELECT {columns}, u.referrals_count, c.*{ids}
        FROM {program} p
        CROSS JOIN (SELECT referrals_count FROM {user} WHERE id = %s) u
        CROSS JOIN (
            SELECT
                COUNT(*) FILTER (WHERE {mine} AND {live}) AS inviter_total,
                COUNT(*) FILTER (WHERE {mine} AND {live} AND g.created_at >= %s) AS inviter_month,
                COUNT(*) FILTER (WHERE {theirs} AND {live}) AS friend_total,
                COUNT(*) FILTER (WHERE {theirs} AND {live} AND g.created_at >= %s) AS friend_month,
                COUNT(*) FILTER (
                    WHERE {mine} AND g.kind = {referrer} AND g.referral_key = %s
                ) AS referrer_done,
                COUNT(*) FILTER (WHERE g.kind = {friend} AND g.referral_key = %s) AS friend_done,
                COUNT(*) FILTER (
                    WHERE {mine} AND g.kind = {milestone}
                    AND g.milestone = (SELECT referrals_count FROM {user} WHERE id = %s)
                ) AS milestone_done
            FROM {grant} g
            WHERE g.member_id IN (%s, %s) OR (g.kind = {friend} AND g.referral_key = %s)
        ) c
        WHERE p.active
    """  # noqa: S608 - table names and constants are ours, values are parameters
    params = [
        inviter_pk,
        inviter_pk,
        *(inviter_pk, since),
        member_pk,
        *(member_pk, since),
        *(inviter_pk, referral_key),
        referral_key,
        *(inviter_pk, inviter_pk),
        *(inviter_pk, member_pk, referral_key),
    ]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    if found is None:
        return None
    taken = GRANTS_MAX if ids else 0
    terms, (referrals, *counts) = found[: len(_TERMS)], found[len(_TERMS) : len(found) - taken]
    grant_ids = found[len(found) - taken :]
    # The program with the fields grants read (the rest deferred); milestones come as JSON text.
    milestones = _TERMS.index("milestones")
    terms = [
        *terms[:milestones],
        Program._meta.get_field("milestones").from_db_value(terms[milestones], None, connection),
        *terms[milestones + 1 :],
    ]
    inviter_total, inviter_month, friend_total, friend_month, *done = counts
    return ActivationLedger(
        Program.from_db(connection.alias, _TERMS, terms),
        referrals,
        inviter_total,
        inviter_month,
        friend_total,
        friend_month,
        *(bool(n) for n in done),
        grant_ids=tuple(grant_ids),
    )


def _literal(value: str) -> str:
    """A constant of ours as an SQL string literal (letters and underscores only)."""
    if not value.replace("_", "").isalpha():
        raise ValueError(f"not a plain constant: {value!r}")
    return f"'{value}'"


def month_start(now: datetime | None = None) -> datetime:
    """The first moment of the calendar month in TIME_ZONE: caps count from it."""
    local = timezone.localtime(now or timezone.now())
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _open_flag_touching() -> Exists:
    """An open flag about the grant's referral, or about its member as a whole."""
    return Exists(
        FraudFlag.objects.filter(status=FraudFlag.Status.OPEN).filter(
            Q(subject_id=OuterRef("referral_id"))
            | Q(subject__isnull=True, inviter_id=OuterRef("member_id"))
        )
    )


def grant_on_hold(*, grant: Grant) -> bool:
    """Whether an open fraud flag touches this unfulfilled grant."""
    subjects, inviters = open_flags_touching(
        referral_ids=[grant.referral_id], member_ids=[grant.member_id]
    )
    return grant.referral_id in subjects or grant.member_id in inviters


@dataclass(frozen=True)
class NextMilestone:
    referrals_needed: int
    amount: int
    at: int = 0  # the referral count it is reached at

    @property
    def referrals_now(self) -> int:
        return self.at - self.referrals_needed


@dataclass(frozen=True)
class Summary:
    """A member's rewards: totals per state in the program's unit, the next milestone."""

    unit: str
    pending: int
    approved: int
    fulfilled: int
    next_milestone: NextMilestone | None

    @property
    def totals(self) -> dict[str, int]:
        return {"pending": self.pending, "approved": self.approved, "fulfilled": self.fulfilled}

    @property
    def empty(self) -> bool:
        return not (self.pending or self.approved or self.fulfilled or self.next_milestone)


# A member's rewards in one statement, portable to SQLite (`make run`): with an active
# program, the totals of the member's grants in its unit and how many milestone grants
# they hold above a referral count; without one, the totals in the unit of their newest
# grant; without either, one row of NULLs. Raw SQL: every profile render and every
# changed poll reads it, and the same read built from the ORM's subqueries cost ~15x as
# much to compile as to run.
_SUMMARY_SQL = """
SELECT p.id, p.unit, p.milestones, g.unit,
       COALESCE(SUM(CASE WHEN g.state = 'pending' THEN g.amount END), 0),
       COALESCE(SUM(CASE WHEN g.state = 'approved' THEN g.amount END), 0),
       COALESCE(SUM(CASE WHEN g.state = 'fulfilled' THEN g.amount END), 0),
       COUNT(CASE WHEN g.kind = 'milestone' AND g.milestone > %s THEN 1 END),
       MAX(g.created_at) AS newest
FROM (SELECT 1 AS one) one
LEFT JOIN {program} p ON p.active
LEFT JOIN {grant} g ON g.member_id = %s AND (p.id IS NULL OR g.unit = p.unit)
GROUP BY p.id, p.unit, p.milestones, g.unit
ORDER BY newest DESC
LIMIT 1
"""


def rewards_summary(*, member: User) -> Summary | None:
    """Totals from the ledger and progress to the next milestone, in one statement. The
    profile shows it on every render.

    Totals are in the active program's unit (or, without a program, the unit of the
    member's newest grant); None when there is neither a program nor a grant.
    """
    count = member.referrals_count
    quote = connection.ops.quote_name
    sql = _SUMMARY_SQL.format(
        program=quote(Program._meta.db_table), grant=quote(Grant._meta.db_table)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, member.pk])
        program_id, unit, milestones, grants_unit, *totals, above, _newest = cursor.fetchone()
    if program_id is None:
        # No program: the newest grant's unit, or nothing to show at all.
        return None if grants_unit is None else Summary(grants_unit, *totals, next_milestone=None)
    program = Program(
        unit=unit, milestones=json.loads(milestones) if isinstance(milestones, str) else milestones
    )
    # Milestone grants above today's count (a referral left after it was paid) are the
    # only ones that can stand in the way of the next milestone: rare, read when held.
    reached = set()
    if above:
        reached = set(
            Grant.objects.filter(
                member_id=member.pk, kind=Grant.Kind.MILESTONE, milestone__gt=count
            ).values_list("milestone", flat=True)
        )
    nxt = None
    for at, amount in program.milestones_sorted():
        if at > count and at not in reached and amount:
            nxt = NextMilestone(referrals_needed=at - count, amount=amount, at=at)
            break
    return Summary(unit, *totals, next_milestone=nxt)


def grants_of_member(*, member: User) -> QuerySet[Grant]:
    """The member's ledger, newest first, with the referral's phone as text and
    whether an open flag holds each grant (`on_hold`)."""
    return (
        Grant.objects.filter(member_id=member.pk)
        .annotate(
            referral_phone=Cast("referral__phone", CharField()), on_hold=_open_flag_touching()
        )
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class ReferralReward:
    """What the member's row for one referral says about its reward."""

    state: str  # pending | on_hold | approved | fulfilled | voided
    amount: int
    unit: str
    available_at: datetime
    reason: str
    reason_display: str

    @property
    def due(self) -> bool:
        """Its hold has passed: it waits only for the next approval run (or the judging)."""
        return self.available_at <= timezone.now()


# The member's referrer grants for the rows shown, each with whether an open flag
# touches it (about that referral, or about the member as a whole). Raw SQL for the
# reason _SUMMARY_SQL is.
_NOTES_SQL = """
SELECT u.phone, g.state, g.amount, g.unit, g.available_at, g.reason,
       CASE WHEN EXISTS (
           SELECT 1 FROM {flag} f
           WHERE f.status = %s AND (f.subject_id = g.referral_id
                                    OR (f.subject_id IS NULL AND f.inviter_id = g.member_id))
       ) THEN 1 ELSE 0 END
FROM {grant} g JOIN {user} u ON u.id = g.referral_id
WHERE g.member_id = %s AND g.kind = %s AND u.phone IN ({phones})
"""


def referral_rewards(*, member: User, phones: list[str]) -> dict[str, ReferralReward]:
    """The member's referrer grant for each of these referrals (E.164 phones), in one
    query: `on_hold` when an open flag touches a pending or approved one."""
    if not phones:
        return {}
    quote = connection.ops.quote_name
    sql = _NOTES_SQL.format(
        flag=quote(FraudFlag._meta.db_table),
        grant=quote(Grant._meta.db_table),
        user=quote(User._meta.db_table),
        phones=", ".join(["%s"] * len(phones)),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [FraudFlag.Status.OPEN, member.pk, Grant.Kind.REFERRER, *phones])
        rows = cursor.fetchall()
    # SQLite hands back text for times; PostgreSQL aware datetimes already.
    to_time = getattr(connection.ops, "convert_datetimefield_value", None)
    reasons = dict(Grant.VoidReason.choices)
    notes = {}
    for phone, state, amount, unit, available_at, reason, on_hold in rows:
        if on_hold and state in Grant.UNFULFILLED:
            state = "on_hold"
        if to_time is not None:
            available_at = to_time(available_at, None, connection)
        notes[phone] = ReferralReward(
            state, amount, unit, available_at, reason, str(reasons.get(reason, ""))
        )
    return notes


def grants_list(
    *,
    state: str | None = None,
    kind: str | None = None,
    member: User | None = None,
    on_hold: bool | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> QuerySet[Grant]:
    """Grants for staff, newest first, with `on_hold` (an open flag touches it) and
    the member's and referral's phones; every filter optional."""
    grants = Grant.objects.select_related("member", "referral").annotate(
        on_hold=_open_flag_touching()
    )
    if state in Grant.State.values:
        grants = grants.filter(state=state)
    if kind in Grant.Kind.values:
        grants = grants.filter(kind=kind)
    if member is not None:
        grants = grants.filter(member_id=member.pk)
    if on_hold is not None:
        grants = grants.filter(on_hold=on_hold)
    if created_from is not None:
        grants = grants.filter(created_at__gte=created_from)
    if created_to is not None:
        grants = grants.filter(created_at__lt=created_to)
    return grants.order_by("-created_at", "-pk")


def grant_get(*, pk: int) -> Grant | None:
    """One grant as grants_list gives it, with `holding_flag` too (the console's row)."""
    grant = grants_list().filter(pk=pk).first()
    if grant is not None:
        grant.holding_flag = OpenFlags.read().holding(grant)
    return grant


def program_cost(*, start: datetime, end: datetime) -> dict[str, int]:
    """What the program cost in [start, end): approved and fulfilled grants per unit."""
    rows = (
        Grant.objects.filter(
            state__in=[Grant.State.APPROVED, Grant.State.FULFILLED],
            created_at__gte=start,
            created_at__lt=end,
        )
        .values("unit")
        .annotate(total=Sum("amount"))
        .values_list("unit", "total")
    )
    return dict(rows)


EXPORT_COLUMNS = (
    *("pk", "member_phone", "kind", "amount", "unit", "state", "reason", "referral_phone"),
    *("milestone", "created_at", "available_at", "fulfilled_at"),
)


def grants_export_rows(*, chunk: int = 2000) -> Iterator[tuple[Any, ...]]:
    """Every grant by id, EXPORT_COLUMNS each, `chunk` at a time: keyset pagination
    (id > the last one), so never more than a chunk in memory and each query an
    index range, also behind PgBouncer where server-side cursors are off. Phones
    come as E.164 text (no phonenumbers parsing per row)."""
    rows = (
        Grant.objects.order_by("pk")
        .annotate(
            member_phone=Cast("member__phone", CharField()),
            referral_phone=Cast("referral__phone", CharField()),
        )
        .values_list(*EXPORT_COLUMNS)
    )
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last)[:chunk])
        yield from batch
        if len(batch) < chunk:
            return
        last = batch[-1][0]


# The console's queues: waiting out the hold, held by an open fraud flag, approved
# and waiting to be paid out.
QUEUES = ("pending", "held", "approved")


@dataclass(frozen=True)
class OpenFlags:
    """The open flags' targets, read in one query. Open flags are few and grants many:
    a queue filters on these ids instead of asking each of 200,000 grants whether a
    flag touches it, and a page's 50 grants find their flag here, not in a subquery
    the database would run for every row an OFFSET skips too."""

    subjects: dict[int, int]  # referral id -> the first open flag about that referral
    inviters: dict[int, int]  # inviter id -> the first open flag about them as a whole

    @classmethod
    def read(cls) -> "OpenFlags":
        subjects: dict[int, int] = {}
        inviters: dict[int, int] = {}
        rows = FraudFlag.objects.filter(status=FraudFlag.Status.OPEN).order_by("-pk")
        for pk, subject_id, inviter_id in rows.values_list("pk", "subject_id", "inviter_id"):
            if subject_id is None:
                inviters[inviter_id] = pk  # ordered by -pk: the first flag is written last
            else:
                subjects[subject_id] = pk
        return cls(subjects, inviters)

    def touched(self) -> Q:
        return Q(referral_id__in=list(self.subjects)) | Q(member_id__in=list(self.inviters))

    def holding(self, grant: Grant) -> int | None:
        """The first open flag that touches `grant` (for a link), if one does."""
        found = (self.subjects.get(grant.referral_id), self.inviters.get(grant.member_id))
        return min((pk for pk in found if pk is not None), default=None)


def grants_queue(*, queue: str, flags: OpenFlags | None = None) -> QuerySet[Grant]:
    """One of QUEUES, newest first (created, then id: a stable order for the pager).

    Filters and orders only on columns of the queue's own partial index (the
    migration 0002), so counting a queue and skipping to a later page read the
    index alone; the rows shown come from grants_page.
    """
    touched = (flags or OpenFlags.read()).touched()
    grants = Grant.objects.all()
    if queue == "held":
        grants = grants.filter(touched, state__in=Grant.UNFULFILLED)
    elif queue == "approved":
        grants = grants.filter(state=Grant.State.APPROVED).exclude(touched)
    else:
        grants = grants.filter(state=Grant.State.PENDING).exclude(touched)
    return grants.order_by("-created_at", "-pk")


def grants_count_by_state() -> dict[str, int]:
    """Grants in each state, every state named (0 included): one grouped query,
    answered from grant_state_count_idx without reading the rows (bench/scrape.py)."""
    grouped = Grant.objects.order_by().values("state").annotate(n=Count("*"))
    counts = dict(grouped.values_list("state", "n"))
    return {state: counts.get(state, 0) for state in Grant.State.values}


def grants_queue_page(*, queue: str, number: object, per_page: int) -> Page:
    """A page of a queue: the exact count and the page's grants, each with
    `holding_flag` and the member's and referral's phones."""
    flags = OpenFlags.read()
    page = grants_page(grants_queue(queue=queue, flags=flags), number=number, per_page=per_page)
    for grant in page.object_list:
        grant.holding_flag = flags.holding(grant)
    return page


def grants_page(
    grants: QuerySet[Grant], *, number: object, per_page: int, past_end_empty: bool = False
) -> Page:
    """Page `number` of `grants` in two steps: the page's ids (what an index answers,
    however far the page), then those rows with the member and the referral. One
    query with the joins would build every row the OFFSET skips; the count is exact
    either way.

    Out of range: the last page (a screen), or with `past_end_empty` (an API that
    scripts walk until a page comes back empty) a page of its own number with no
    rows, so such a walk ends instead of reading the last page forever.
    """
    paginator = Paginator(grants.values_list("pk", flat=True), per_page)
    if past_end_empty and isinstance(number, int) and number > max(paginator.num_pages, 1):
        return Page([], number, paginator)
    page = paginator.get_page(number)
    ids = list(page.object_list)
    rows = grants.filter(pk__in=ids).select_related("member", "referral")
    by_pk = {grant.pk: grant for grant in rows}
    page.object_list = [by_pk[pk] for pk in ids if pk in by_pk]
    return page
