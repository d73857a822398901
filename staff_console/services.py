"""Writes of the operator's console: the daily code counts that outlive purged
challenges. Fraud flags (raised, reviewed) and the IP purge live in `fraud`."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from auth_flow.models import Challenge
from core.db import advisory_lock
from staff_console.models import DailyCodeStat, ScanMark

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
CODES_MARK = "code_counts"
# A challenge can still be used until its code expires (OTP_TTL after it was
# created); this much later, it will not change state again.
SETTLE_MARGIN = timedelta(minutes=5)
# Rollups happen at most this often; the rest is counted live.
ROLLUP_EVERY = timedelta(minutes=5)


def _mark(name: str) -> ScanMark:
    mark, _ = ScanMark.objects.select_for_update().get_or_create(
        name=name, defaults={"scanned_to": EPOCH}
    )
    return mark


@transaction.atomic
def code_counts_rollup(*, now: datetime | None = None) -> int:
    """Add the challenges settled since the last rollup to the daily counts per provider.

    Settled: created more than OTP_TTL + SETTLE_MARGIN ago, so no code among them
    can still be used (a longer OTP_TTL waits longer, and every sign-in counts).
    purge_challenges deletes challenges after a day; run this more often than
    that (a periodic job every ten minutes, staff_console/tasks.py; by hand
    `manage.py rollup_code_counts`) so
    that codes sent and sign-ins over 7-90 days survive. Returns the number of
    codes sent it added (failed sends are not codes sent).
    """
    advisory_lock("staff_console:code_counts")
    now = now or timezone.now()
    mark = _mark(CODES_MARK)
    until = now - timedelta(seconds=settings.OTP_TTL) - SETTLE_MARGIN
    if until - mark.scanned_to < ROLLUP_EVERY:
        return 0
    rows = (
        Challenge.objects.filter(created_at__gt=mark.scanned_to, created_at__lte=until)
        .annotate(day=TruncDate("created_at"))
        .values("day", "provider")
        .annotate(
            sent=Count("pk", filter=~Q(delivery=Challenge.Delivery.FAILED)),
            used=Count("pk", filter=Q(state=Challenge.State.USED)),
            refunded=Count("pk", filter=Q(refunded=True)),
        )
    )
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    counted = 0
    for row in rows:
        got = totals[(row["day"], row["provider"])]
        got[0] += row["sent"]
        got[1] += row["used"]
        got[2] += row["refunded"]
        counted += row["sent"]
    if totals:
        known = {
            (s.day, s.provider): s
            for s in DailyCodeStat.objects.select_for_update().filter(
                day__in={day for day, _ in totals}
            )
        }
        create = []
        for (day, provider), (sent, used, refunded) in totals.items():
            stat = known.get((day, provider))
            if stat is None:
                create.append(
                    DailyCodeStat(
                        day=day,
                        provider=provider,
                        codes_sent=sent,
                        sign_ins=used,
                        refunded=refunded,
                    )
                )
            else:
                stat.codes_sent += sent
                stat.sign_ins += used
                stat.refunded += refunded
        DailyCodeStat.objects.bulk_update(known.values(), ["codes_sent", "sign_ins", "refunded"])
        DailyCodeStat.objects.bulk_create(create)
    mark.scanned_to = until
    mark.save(update_fields=["scanned_to"])
    return counted
