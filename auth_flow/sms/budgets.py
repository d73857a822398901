"""Hourly budgets of codes sent, exact across processes (PostgreSQL or SQLite).

They bound the bill of a pumping attack that slips past the number guards, without
letting it lock members out, and without telling anyone which numbers are members
(which budget a request draws on depends on what it carries, never on the number):

- a stranger (no valid device token for the phone) takes one unit from each of
  `global` (OTP_GLOBAL_HOURLY less OTP_DEVICE_HOURLY), `cc:<country calling
  code>` (OTP_REGION_HOURLY) and `px:<first OTP_PREFIX_DIGITS digits of the E.164
  number>` (OTP_PREFIX_HOURLY): a run on one range spends its prefix and leaves the
  rest of the country working; one spread over a country spends the country;
- a request with a valid device token (only a right code mints one) takes from
  `global` alone, up to the whole OTP_GLOBAL_HOURLY: the last OTP_DEVICE_HOURLY
  units of every hour are reachable by device holders only, and no country or
  prefix budget that strangers spent applies to them.

So every sender together stays within OTP_GLOBAL_HOURLY an hour: the worst bill.
Fixed windows (the clock hour), one row per key and window; a take increments a
row only while it is below its limit (`UPDATE ... SET used = used + 1 WHERE used <
limit`), so no count can pass its limit, in any number of processes.

Every code request of the cluster takes from `global`, so that budget is kept in
OTP_GLOBAL_SHARDS rows (`global:0` ... `global:N-1`), each with its share of the
limits (the stranger's and the device holder's): a take starts at a random shard
and goes on to the next while one is spent, so the budget is refused only once
every shard is, and the sum of the shards is the budget. Each shard's count stays
within its share, so the sum stays within the whole: the limits hold exactly.

On PostgreSQL a take is one statement (`auth_flow_budget_take`, migration 0008),
all keys or none, in its own transaction with `synchronous_commit = off`: a row's
lock is held only while the server runs that statement, never across a round trip
to an app process whose threads wait for the GIL in a burst (measured: with the
take as four statements in a transaction, a 300-request burst spent most of its
time with a dozen connections waiting on the `global` row). A database crash may
forget the last fraction of a second of increments (the budget then allows that
many more that hour); the challenges themselves keep the normal, durable commit.
SQLite (`make run`) has one writer at a time: a transaction of plain statements.
"""

import logging
import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from auth_flow.errors import SmsBudgetExhausted
from auth_flow.models import SendBudget
from core.db import prepared_cursor

logger = logging.getLogger("auth_flow.sms.budgets")

WINDOW = timedelta(hours=1)


def window_start(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def budget_prefix(phone: str) -> str:
    """The range a number's prefix budget counts: its first OTP_PREFIX_DIGITS digits."""
    return phone.lstrip("+")[: settings.OTP_PREFIX_DIGITS]


GLOBAL = "global"


def shard_keys() -> list[str]:
    """The rows of the `global` budget (one per shard), in a fixed order."""
    return [f"{GLOBAL}:{index}" for index in range(max(settings.OTP_GLOBAL_SHARDS, 1))]


def shard_limits(limit: int) -> list[int]:
    """`limit` spread over the shards: they add up to it exactly."""
    shards = max(settings.OTP_GLOBAL_SHARDS, 1)
    limit = max(limit, 0)
    return [limit // shards + (1 if index < limit % shards else 0) for index in range(shards)]


def budget_key(key: str) -> str:
    """The budget a row counts for: `global` for each of its shards."""
    return GLOBAL if key.startswith(f"{GLOBAL}:") else key


def budget_keys(*, phone: str, country_code: int, device: bool) -> list[tuple[str, int]]:
    """The budgets one send takes from, always in this order (no deadlock): the global
    one (in shards, see shard_limits), then the country's and the range's."""
    if device:
        return [(GLOBAL, settings.OTP_GLOBAL_HOURLY)]
    return [
        (GLOBAL, settings.OTP_GLOBAL_HOURLY - settings.OTP_DEVICE_HOURLY),
        (f"cc:{country_code}", settings.OTP_REGION_HOURLY),
        (f"px:{budget_prefix(phone)}", settings.OTP_PREFIX_HOURLY),
    ]


def budget_take(*, phone: str, country_code: int, device: bool, now: datetime) -> None:
    """Take one unit from every budget, all or none, or raise SmsBudgetExhausted
    (the refusal counted, the first of a window logged: budget_refused)."""
    if connection.vendor == "postgresql":
        sql, params = budget_take_sql(
            phone=phone, country_code=country_code, device=device, now=now
        )
        with prepared_cursor() as cursor:
            cursor.execute(sql, params)
            refusal = cursor.fetchone()[0]
        budget_take_judge(refusal, phone=phone, country_code=country_code, device=device, now=now)
        return
    start = window_start(now)
    (_global, global_limit), *others = budget_keys(
        phone=phone, country_code=country_code, device=device
    )
    shards, limits = shard_keys(), shard_limits(global_limit)
    first = secrets.randbelow(len(shards))
    taken = _budget_take_portable(
        start=start,
        shards=shards[first:] + shards[:first],
        limits=limits[first:] + limits[:first],
        others=others,
    )
    if taken is not None:
        _budget_refuse(*taken, start=start, now=now, limits=dict(others), global_limit=global_limit)


def budget_take_sql(
    *, phone: str, country_code: int, device: bool, now: datetime
) -> tuple[str, list]:
    """budget_take's one statement on PostgreSQL and its parameters, for a caller
    that sends it after other statements in one round trip (its own transaction
    still: after their COMMIT). Its one value goes to budget_take_judge."""
    (_global, global_limit), *others = budget_keys(
        phone=phone, country_code=country_code, device=device
    )
    shards = shard_keys()
    # A random first shard spreads simultaneous takes over the rows.
    first = secrets.randbelow(len(shards))
    return (
        "SELECT auth_flow_budget_take("
        "%s::timestamptz, %s::text[], %s::integer[], %s, %s::text[], %s::integer[])",
        [
            window_start(now),
            _array_literal(shards),
            _array_literal(shard_limits(global_limit)),
            first,
            _array_literal([k for k, _ in others]),
            _array_literal([m for _, m in others]),
        ],
    )


_PLAIN = re.compile(r"[A-Za-z0-9:_+-]*")


def _array_literal(values: list) -> str | list:
    """`values` as PostgreSQL's text form of an array when every element is plain
    (letters, digits, `:_+-`, and not the word NULL: nothing to quote), else the
    list itself. The code request sends this statement bound client-side, where
    psycopg quoted each list element in Python: 30 us of a request's CPU for the
    four short arrays, 9 us as text."""
    texts = [str(value) for value in values]
    if all(text and _PLAIN.fullmatch(text) and text.upper() != "NULL" for text in texts):
        return "{" + ",".join(texts) + "}"
    return list(values)


def budget_take_judge(
    refusal: list | None, *, phone: str, country_code: int, device: bool, now: datetime
) -> None:
    """Raise SmsBudgetExhausted if budget_take_sql's statement refused (`refusal`:
    its value, NULL when every budget gave a unit)."""
    if refusal is None:
        return
    (_global, global_limit), *others = budget_keys(
        phone=phone, country_code=country_code, device=device
    )
    _budget_refuse(
        refusal[0],
        int(refusal[1]),
        start=window_start(now),
        now=now,
        limits=dict(others),
        global_limit=global_limit,
    )


def _budget_refuse(
    key: str, refusals: int, *, start: datetime, now: datetime, limits: dict, global_limit: int
) -> None:
    error = SmsBudgetExhausted(
        int((start + WINDOW - now).total_seconds()) + 1,
        key=budget_key(key),
        window_start=start,
        limit=limits.get(key, global_limit),
    )
    budget_refused(error, refusals=refusals)
    raise error


def _budget_take_portable(
    *, start: datetime, shards: list[str], limits: list[int], others: list[tuple[str, int]]
) -> tuple[str, int] | None:
    """budget_take without PostgreSQL's function: None, or the refused row's key and
    its refusals so far."""
    with transaction.atomic():
        # One writer at a time here: the sum of the shards decides, as PostgreSQL's
        # function does once the shares no longer bound it.
        rows = SendBudget.objects.filter(window_start=start, key__startswith=f"{GLOBAL}:")
        used = dict(rows.values_list("key", "used"))
        shard = None
        if sum(used.values()) < sum(limits):
            pairs = zip(shards, limits, strict=True)
            shard = next(
                (k for k, limit in pairs if used.get(k, 0) < limit and _take_one(k, start, limit)),
                None,
            )
        refused = shard_keys()[0] if shard is None else None  # where PostgreSQL counts it
        if shard is not None:
            refused = next((key for key, limit in others if not _take_one(key, start, limit)), None)
            if refused is None:
                return None
        # Not in the transaction being rolled back: the refusal stays counted.
        transaction.set_rollback(True)
    SendBudget.objects.get_or_create(key=refused, window_start=start)
    rows = SendBudget.objects.filter(key=refused, window_start=start)
    rows.update(refused=F("refused") + 1)
    return refused, rows.values_list("refused", flat=True).get()


def _take_one(key: str, start: datetime, limit: int) -> bool:
    SendBudget.objects.get_or_create(key=key, window_start=start)
    return bool(
        SendBudget.objects.filter(key=key, window_start=start, used__lt=limit).update(
            used=F("used") + 1
        )
    )


def budget_give_back(*, phone: str, country_code: int, device: bool, created_at: datetime) -> None:
    """A send that failed costs nothing: return its units to the window it took them
    from (for `global`, to a shard with units used: the sum is what counts). Runs in
    the caller's transaction; one row at a time in `budget_take`'s order, so a
    give-back and a take can never wait on each other in a cycle."""
    start = window_start(created_at)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # As for a take: do not hold the hot rows' locks through a disk flush.
            cursor.execute("SET LOCAL synchronous_commit = off")
    shard = (
        SendBudget.objects.filter(key__in=shard_keys(), window_start=start, used__gt=0)
        .order_by("-used")
        .select_for_update()
        .values_list("pk", flat=True)[:1]
    )
    SendBudget.objects.filter(pk__in=shard, used__gt=0).update(used=F("used") - 1)
    _global, *others = budget_keys(phone=phone, country_code=country_code, device=device)
    for key, _limit in others:
        SendBudget.objects.filter(key=key, window_start=start, used__gt=0).update(
            used=F("used") - 1
        )


def budget_refused(error: SmsBudgetExhausted, *, refusals: int) -> None:
    """The first refusal in a window logs one ERROR line (for an alert)."""
    if refusals == 1:
        logger.error(
            "sms budget exhausted budget=%s limit=%d window=%s retry_after=%d",
            error.key,
            error.limit,
            error.window_start.isoformat(),
            error.retry_after,
        )


def budgets_used(*, moment: datetime) -> dict[str, tuple[int, int]]:
    """Each budget's units used and requests refused in the window of `moment`, the
    shards of `global` added up."""
    totals: dict[str, tuple[int, int]] = {GLOBAL: (0, 0)}
    rows = SendBudget.objects.filter(window_start=window_start(moment))
    for key, used, refused in rows.values_list("key", "used", "refused"):
        was_used, was_refused = totals.get(budget_key(key), (0, 0))
        totals[budget_key(key)] = (was_used + used, was_refused + refused)
    return totals


def budgets_purge(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete budget windows past their hour (kept a day to read in the admin)."""
    cutoff = window_start(timezone.now()) - older_than
    return SendBudget.objects.filter(window_start__lt=cutoff).delete()[0]
