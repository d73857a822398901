"""Writes of the fraud room: flags raised from new activations by the rules,
staff's verdicts on them, and the purge of recorded IPs."""

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Q
from django.db.models.functions import Cast, Left, Length
from django.utils import timezone

from core.db import advisory_lock, database_now
from events.payloads import iso_utc
from events.services import events_publish
from fraud import rules, signals
from fraud.errors import FlagVerdictInvalid
from fraud.models import FraudFlag, JudgingMark
from profiles.models import User
from profiles.services import member_ips_purge

logger = logging.getLogger(__name__)

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
FLAGS_MARK = "fraud_flags"
RESCAN_MARGIN = timedelta(minutes=1)
# One scan judges at most this many activations; `flags_judge_all` (the
# fraud.flags_judge job, `manage.py refresh_fraud_flags`) drains a backlog in turns.
CONSOLE_SCAN_LIMIT = 500
MEMBER_FIELDS = (
    "id",
    "phone",
    "invite_code",
    "date_joined",
    "activated_at",
    "referred_by_id",
    "signup_ip",
    "activation_ip",
)


def _facts(rows: Iterable[dict]) -> list[rules.Member]:
    return [
        rules.Member(**{**row, "phone": str(row["phone"]), "invite_code": row["invite_code"]})
        for row in rows
    ]


def _mark() -> JudgingMark:
    mark, _ = JudgingMark.objects.select_for_update().get_or_create(
        name=FLAGS_MARK, defaults={"scanned_to": EPOCH}
    )
    return mark


@transaction.atomic
def flags_refresh(*, limit: int | None = CONSOLE_SCAN_LIMIT, now: datetime | None = None) -> int:
    """Judge the activations since the last scan; returns how many were read.

    Cheap when nothing is new (two indexed queries); the fraud.flags_judge job
    runs it after activations, `manage.py refresh_fraud_flags` by hand. At most
    `limit` activations per call, oldest first; the mark moves to the last one.
    """
    advisory_lock("fraud:flags_refresh")
    # The clock activations are stamped with (core.db.database_now), not this host's.
    now = now or database_now()
    mark = _mark()
    new = User.objects.filter(
        Q(activated_at__gt=mark.scanned_to) | Q(activated_at=mark.scanned_to, pk__gt=mark.last_pk),
        activated_at__lte=now,
    ).order_by("activated_at", "pk")
    rows = list((new[:limit] if limit else new).values(*MEMBER_FIELDS))
    if not rows:
        # The mark stays: the next scan's indexed range read costs the same.
        return 0
    candidates = _facts(rows)
    _store(_judge(candidates), now=now)
    if limit is not None and len(rows) == limit:
        # More to read: go on right after the last row judged.
        mark.scanned_to, mark.last_pk = candidates[-1].activated_at, candidates[-1].id
    else:
        # All read up to now. Activations are stamped inside their lock but may
        # commit a moment after a scan: the next scan re-reads a margin (the
        # rules are idempotent).
        mark.scanned_to, mark.last_pk = now - RESCAN_MARGIN, 0
    mark.save(update_fields=["scanned_to", "last_pk"])
    return len(candidates)


def flags_judge_all(*, batch_size: int = 5000) -> int:
    """Judge every activation not judged yet, in batches (a transaction each)."""
    judged = 0
    while (read := flags_refresh(limit=batch_size)) == batch_size:
        judged += read
    return judged + read


def _judge(candidates: list[rules.Member]) -> list[rules.Suspicion]:
    burst_window = timedelta(minutes=settings.FRAUD_BURST_MINUTES)
    inviter_ids = sorted({m.referred_by_id for m in candidates if m.referred_by_id})
    inviters = {
        m.id: m for m in _facts(User.objects.filter(pk__in=inviter_ids).values(*MEMBER_FIELDS))
    }
    found: list[rules.Suspicion] = []
    for referral in candidates:
        inviter = inviters.get(referral.referred_by_id)  # type: ignore[arg-type]
        if inviter is None:
            continue
        for suspicion in (
            rules.same_ip(referral, inviter, window=timedelta(hours=settings.FRAUD_SAME_IP_HOURS)),
            rules.fast_activation(
                referral, within=timedelta(seconds=settings.FRAUD_FAST_ACTIVATION_SECONDS)
            ),
        ):
            if suspicion:
                found.append(suspicion)
    # Group rules read the touched inviters' other referrals too.
    earliest = min(m.activated_at for m in candidates) - burst_window  # type: ignore[type-var,operator]
    recent = _facts(
        User.objects.filter(referred_by__in=inviter_ids, activated_at__gte=earliest).values(
            *MEMBER_FIELDS
        )
    )
    found += rules.bursts(recent, count=settings.FRAUD_BURST_COUNT, within=burst_window)
    # Only the number blocks (all digits but the last two) the new referrals fall in:
    # a popular inviter's other referrals stay in the database.
    blocks = {m.phone[:-2] for m in candidates}
    everyone = _facts(
        User.objects.filter(referred_by__in=inviter_ids)
        .annotate(block=Left(Cast("phone", CharField()), Length(Cast("phone", CharField())) - 2))
        .filter(block__in=blocks)
        .values(*MEMBER_FIELDS)
    )
    found += rules.sequential_phones(everyone, count=settings.FRAUD_SEQUENTIAL_COUNT)
    return found


def _store(suspicions: list[rules.Suspicion], *, now: datetime) -> None:
    """Insert new flags and grow the evidence of known ones (one read, bulk writes).

    A flag staff marked `reviewed` opens again when new evidence arrives; one
    marked `fraud` stays so.
    """
    if not suspicions:
        return
    key = lambda s: (s.reason, s.inviter_id, str(s.subject_id or ""))  # noqa: E731
    wanted = {key(s): s for s in suspicions}
    existing = {
        (f.reason, f.inviter_id, f.subject_key): f
        for f in FraudFlag.objects.filter(
            inviter_id__in={s.inviter_id for s in suspicions},
            reason__in={s.reason for s in suspicions},
        )
    }
    create, update = [], []
    for k, suspicion in wanted.items():
        flag = existing.get(k)
        if flag is None:
            create.append(
                FraudFlag(
                    reason=suspicion.reason,
                    inviter_id=suspicion.inviter_id,
                    subject_id=suspicion.subject_id,
                    subject_key=k[2],
                    evidence=suspicion.evidence,
                    raised_at=now,
                    updated_at=now,
                )
            )
            continue
        merged = rules.evidence_merge(flag.evidence, suspicion.evidence)
        if len(merged) == len(flag.evidence):
            continue
        flag.evidence = merged
        flag.updated_at = now
        if flag.status == FraudFlag.Status.REVIEWED:
            flag.status = FraudFlag.Status.OPEN
        update.append(flag)
    FraudFlag.objects.bulk_create(create, ignore_conflicts=True)
    FraudFlag.objects.bulk_update(update, ["evidence", "updated_at", "status"])
    opened = {(f.inviter_id, f.subject_id) for f in [*create, *update] if f.status == "open"}
    if opened:
        signals.flags_opened.send(sender=FraudFlag, touched=opened)
    if create:
        logger.info("fraud flags raised count=%s", len(create))
        _raised_publish(create, now=now)


def _raised_publish(created: list[FraudFlag], *, now: datetime) -> None:
    """`fraud_flag.raised` for each new flag, in the judging's transaction.

    bulk_create(ignore_conflicts=True) leaves the ids unset on PostgreSQL: the
    flags raised at `now` are read back (the judging lock makes them this scan's).
    """
    keys = {(f.reason, f.inviter_id, f.subject_key) for f in created}
    raised = FraudFlag.objects.filter(
        raised_at=now,
        inviter_id__in={f.inviter_id for f in created},
        reason__in={f.reason for f in created},
    ).order_by("pk")
    events_publish(
        events=[
            (
                "fraud_flag.raised",
                {
                    "flag_id": flag.pk,
                    "reason": flag.reason,
                    "inviter_id": flag.inviter_id,
                    "subject_id": flag.subject_id,
                    "raised_at": iso_utc(flag.raised_at),
                },
            )
            for flag in raised
            if (flag.reason, flag.inviter_id, flag.subject_key) in keys
        ]
    )


@transaction.atomic
def flag_review(*, flag: FraudFlag, status: str, by: User) -> FraudFlag:
    """Staff's verdict on a flag: `reviewed` (nothing wrong) or `fraud`.

    Anything else (`open`, an unknown word) is refused here, so that every
    caller, not only the console's form, keeps to the two verdicts.
    """
    if status not in (FraudFlag.Status.REVIEWED, FraudFlag.Status.FRAUD):
        raise FlagVerdictInvalid
    flag = FraudFlag.objects.select_for_update().get(pk=flag.pk)
    flag.status = status
    flag.reviewed_by = by
    flag.reviewed_at = timezone.now()
    flag.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    signals.flag_reviewed.send(sender=FraudFlag, flag=flag, status=status, by=by)
    logger.info("fraud flag reviewed flag=%s status=%s by=%s", flag.pk, status, by.pk)
    return flag


def ips_purge(*, now: datetime | None = None) -> int:
    """Forget recorded IPs older than FRAUD_IP_RETENTION_DAYS, in members and in
    the evidence of flags raised before then."""
    keep = timedelta(days=settings.FRAUD_IP_RETENTION_DAYS)
    cleared = member_ips_purge(older_than=keep)
    cutoff = (now or timezone.now()) - keep
    flags = FraudFlag.objects.filter(updated_at__lt=cutoff, reason=FraudFlag.Reason.SAME_IP)
    for flag in flags.iterator(chunk_size=1000):
        if any("ip" in row for row in flag.evidence):
            flag.evidence = [{k: v for k, v in row.items() if k != "ip"} for row in flag.evidence]
            flag.save(update_fields=["evidence"])
            cleared += 1
    return cleared
