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
Fixed windows (the clock hour), one row per key and window, one statement per key:

    INSERT ... VALUES (key, hour, 1) ON CONFLICT (key, window_start)
    DO UPDATE SET used = used + 1 WHERE used < limit RETURNING used

The row lock the upsert takes serialises concurrent senders on that row, so the
count can never pass the limit. It is held until the commit, and a commit waits
for its WAL flush: simultaneous requests queue on the one row. Measured with 300
simultaneous challenge writes from one process (pool of 20, a loaded 2-core box):
0.6-0.9 s without budgets, 2.0-2.5 s with the upsert in the challenge's transaction,
1.0-1.2 s as now. Now: the budgets have a transaction of their own, after the
challenge's (a throttled request never reaches it), with `synchronous_commit = off`,
so the lock is released without waiting for the disk. A database crash may forget
the last fraction of a second of increments (the budget then allows that many more
that hour); the challenges themselves keep the normal, durable commit.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from auth_flow.errors import SmsBudgetExhausted
from auth_flow.models import SendBudget

logger = logging.getLogger("auth_flow.sms.budgets")

WINDOW = timedelta(hours=1)
TABLE = SendBudget._meta.db_table


def window_start(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def budget_prefix(phone: str) -> str:
    """The range a number's prefix budget counts: its first OTP_PREFIX_DIGITS digits."""
    return phone.lstrip("+")[: settings.OTP_PREFIX_DIGITS]


def budget_keys(*, phone: str, country_code: int, device: bool) -> list[tuple[str, int]]:
    """The budgets one send takes from, always in this order (no deadlock)."""
    if device:
        return [("global", settings.OTP_GLOBAL_HOURLY)]
    return [
        ("global", settings.OTP_GLOBAL_HOURLY - settings.OTP_DEVICE_HOURLY),
        (f"cc:{country_code}", settings.OTP_REGION_HOURLY),
        (f"px:{budget_prefix(phone)}", settings.OTP_PREFIX_HOURLY),
    ]


@transaction.atomic
def budget_take(*, phone: str, country_code: int, device: bool, now: datetime) -> None:
    """Take one unit from every budget, all or none, or raise SmsBudgetExhausted."""
    start = window_start(now)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL synchronous_commit = off")
        for key, limit in budget_keys(phone=phone, country_code=country_code, device=device):
            cursor.execute(
                f"INSERT INTO {TABLE} (key, window_start, used, refused) VALUES (%s, %s, 1, 0) "  # noqa: S608 - our table name
                f"ON CONFLICT (key, window_start) DO UPDATE SET used = {TABLE}.used + 1 "
                f"WHERE {TABLE}.used < %s RETURNING used",
                [key, start, max(limit, 0)],
            )
            if cursor.fetchone() is None:
                wait = start + WINDOW - now
                raise SmsBudgetExhausted(
                    int(wait.total_seconds()) + 1, key=key, window_start=start, limit=limit
                )


def budget_give_back(*, phone: str, country_code: int, device: bool, created_at: datetime) -> None:
    """A send that failed costs nothing: return its units to the window it took them
    from. Runs in the caller's transaction; one row at a time in `budget_take`'s
    order, so a give-back and a take can never wait on each other in a cycle."""
    start = window_start(created_at)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # As for a take: do not hold the hot rows' locks through a disk flush.
            cursor.execute("SET LOCAL synchronous_commit = off")
    for key, _limit in budget_keys(phone=phone, country_code=country_code, device=device):
        SendBudget.objects.filter(key=key, window_start=start, used__gt=0).update(
            used=F("used") - 1
        )


def budget_refused(error: SmsBudgetExhausted) -> None:
    """Count a refusal; the first in a window logs one ERROR line (for an alert)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET refused = refused + 1 "  # noqa: S608 - our table name
            "WHERE key = %s AND window_start = %s RETURNING refused",
            [error.key, error.window_start],
        )
        row = cursor.fetchone()
    if row is not None and row[0] == 1:
        logger.error(
            "sms budget exhausted budget=%s limit=%d window=%s retry_after=%d",
            error.key,
            error.limit,
            error.window_start.isoformat(),
            error.retry_after,
        )


def budgets_purge(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete budget windows past their hour (kept a day to read in the admin)."""
    cutoff = window_start(timezone.now()) - older_than
    return SendBudget.objects.filter(window_start__lt=cutoff).delete()[0]
