"""Writes of the rewards room: the program, grants at an activation, and every
transition of a grant (approve, fulfil, void), each recorded with who and when
and published as an event in the transaction of its change."""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.db import rows_insert
from events.services import rows_insert_with_events
from fraud import selectors as fraud_selectors
from fraud import services as fraud_services
from profiles.models import User
from profiles.services import referrals_changed
from rewards.errors import GrantFulfilled, GrantNotApproved, GrantOnHold, GrantVoided
from rewards.keys import phone_key
from rewards.models import Grant, Program
from rewards.publish import grant_event
from rewards.selectors import activation_ledger, grant_on_hold, month_start

logger = logging.getLogger(__name__)

UNSET: Any = object()
APPROVE_BATCH = 500


# --- the program -------------------------------------------------------------


@transaction.atomic
def program_set(
    *,
    referrer_amount: int | None = None,
    friend_amount: int | None = None,
    milestones: dict[int, int] | None = None,
    unit: str | None = None,
    hold_days: int | None = None,
    monthly_cap: int | None = UNSET,
    total_cap: int | None = UNSET,
) -> Program:
    """Change the active program (created on first use); what is not given stays.

    Grants keep their own amount and unit, so a change affects only later
    activations. Caps: None for no cap.
    """
    program = Program.objects.select_for_update().filter(active=True).first() or Program()
    for name, value in (
        ("referrer_amount", referrer_amount),
        ("friend_amount", friend_amount),
        ("unit", unit),
        ("hold_days", hold_days),
    ):
        if value is not None:
            setattr(program, name, value)
    if milestones is not None:
        program.milestones = [
            {"referrals": count, "amount": amount} for count, amount in sorted(milestones.items())
        ]
    if monthly_cap is not UNSET:
        program.monthly_cap = monthly_cap
    if total_cap is not UNSET:
        program.total_cap = total_cap
    program.full_clean()
    program.save()
    logger.info("rewards program set program=%s", program.pk)
    return program


# --- grants at an activation -------------------------------------------------

LIVE = ~Q(state=Grant.State.VOIDED)


@cache
def _grant_fields() -> list[tuple[str, Any]]:
    """Grant's fields in the model's order (attribute name, default): its defaults are
    constants (rewards.models), so one copy serves every grant."""
    return [(f.attname, f.get_default()) for f in Grant._meta.concrete_fields]


def _grant_new(values: dict[str, Any]) -> Grant:
    """A new Grant from attribute names, every field given in order: Model.__init__
    with keywords looks up a default for each field left out and sets each foreign
    key through its descriptor, about twice the cost, and every activation builds
    two or three."""
    return Grant(*[values.get(name, default) for name, default in _grant_fields()])


def _capped(program: Program, *, total: int, month: int) -> bool:
    return (program.total_cap is not None and total >= program.total_cap) or (
        program.monthly_cap is not None and month >= program.monthly_cap
    )


def grants_for_activation(
    *, member: User, inviter: User, now: datetime | None = None, in_activation: bool = False
) -> list[Grant]:
    """The grants `member` entering `inviter`'s code earns: the inviter's referral
    reward, a milestone when this activation reaches one, the friend's reward.

    Runs inside the activation's transaction with both rows locked (the
    referral_activated signal), so the counts below are exact under parallel
    activations into one inviter, and every grant of a member is written while
    that member's row is locked. Idempotent: a grant already there (a replay, a
    phone that left and joined again) is not written twice, and the database's
    unique constraints stand behind that. A grant over a cap is written voided
    (`cap`) so the member sees why; so is a suspended inviter's (`suspended`).

    Lean, since every activation pays for it (bench/rewards.py): one statement
    reads the program and the counts, one writes the grants, and their events go
    out with the activation's (`events_together`). `in_activation`: called by the
    referral_activated receiver, whose activation has moved both members' list
    versions already; anyone else bumps the friend's here.
    """
    now = now or timezone.now()
    activated_at = member.activated_at or now
    key = phone_key(member.phone)
    seen = activation_ledger(
        member_pk=member.pk, inviter_pk=inviter.pk, referral_key=key, month_from=month_start(now)
    )
    if seen is None:
        return []
    program, count = seen.program, seen.referrals
    milestone_amount = program.milestone_at(count) if count else None
    counters = {
        inviter.pk: [seen.inviter_total, seen.inviter_month],
        member.pk: [seen.friend_total, seen.friend_month],
    }
    wanted: list[tuple[int, str, int, dict[str, Any]]] = []
    if program.referrer_amount and not seen.referrer_done:
        wanted.append((inviter.pk, Grant.Kind.REFERRER, program.referrer_amount, {}))
    if milestone_amount and not seen.milestone_done:
        wanted.append((inviter.pk, Grant.Kind.MILESTONE, milestone_amount, {"milestone": count}))
    if program.friend_amount and not seen.friend_done:
        wanted.append((member.pk, Grant.Kind.FRIEND, program.friend_amount, {}))
    if not wanted:
        return []
    available_at = activated_at + timedelta(days=program.hold_days)
    grants = []
    ids = iter(seen.grant_ids)
    for owner_pk, kind, amount, extra in wanted:
        total, month = counters[owner_pk]
        values = {
            "id": next(ids, None),
            "member_id": owner_pk,
            "kind": kind,
            "amount": amount,
            "unit": program.unit,
            "activated_at": activated_at,
            "available_at": available_at,
            "created_at": now,
            **extra,
        }
        if kind != Grant.Kind.MILESTONE:
            values["referral_id"], values["referral_key"] = member.pk, key
        if owner_pk == inviter.pk and not inviter.is_active:
            # A suspended inviter's code still lets the friend join; what it would
            # earn them is void from the start, as their suspension voided the rest.
            values.update(state=Grant.State.VOIDED, reason=Grant.VoidReason.SUSPENDED)
            values["voided_at"] = now
        elif _capped(program, total=total, month=month):
            values.update(state=Grant.State.VOIDED, reason=Grant.VoidReason.CAP, voided_at=now)
        else:
            counters[owner_pk] = [total + 1, month + 1]
        grants.append(_grant_new(values))
    # With their ids taken already (PostgreSQL), the grants ride in the statement that
    # writes the activation's events; the unique constraints stand behind the checks
    # above either way.
    if not rows_insert_with_events(grants):
        rows_insert(grants)
    for grant in grants:
        grant_event(grant, "created")
    if not in_activation and any(g.member_id == member.pk for g in grants):
        referrals_changed(member_pks=[member.pk])
    logger.info(
        "rewards granted member=%s inviter=%s grants=%s", member.pk, inviter.pk, len(grants)
    )
    return grants


# --- transitions -------------------------------------------------------------


def versions_bump_after_commit(*, member_ids: Iterable[int | None]) -> None:
    """The members' open pages refresh on their next poll, once this has committed
    (bumped after the commit: the rows may be locked by whoever we wait for)."""
    ids = {pk for pk in member_ids if pk is not None}
    if ids:
        transaction.on_commit(lambda: referrals_changed(member_pks=ids))


def _locked(grant: Grant) -> Grant:
    return Grant.objects.select_for_update().get(pk=grant.pk)


def _grant_move(grant: Grant, *, to: str, by: User | None, now: datetime | None) -> Grant:
    """One grant, locked, to `approved` or `fulfilled`: the state, who and when (the
    `<state>_at` / `<state>_by` fields), its event, the member's list refreshed."""
    grant.state = to
    setattr(grant, f"{to}_at", now or timezone.now())
    setattr(grant, f"{to}_by", by)
    grant.save(update_fields=["state", f"{to}_at", f"{to}_by"])
    grant_event(grant, to)
    versions_bump_after_commit(member_ids=[grant.member_id])
    logger.info("reward %s grant=%s by=%s", to, grant.pk, by.pk if by else "-")
    return grant


@transaction.atomic
def grant_approve(*, grant: Grant, by: User | None = None, now: datetime | None = None) -> Grant:
    """Approve a pending grant (staff by hand, or the job when its hold ended).

    Approved or fulfilled already: returned as it is. Voided: GrantVoided.
    """
    grant = _locked(grant)
    if grant.state == Grant.State.VOIDED:
        raise GrantVoided
    if grant.state != Grant.State.PENDING:
        return grant
    return _grant_move(grant, to="approved", by=by, now=now)


@transaction.atomic
def grant_fulfil(*, grant: Grant, by: User | None = None, now: datetime | None = None) -> Grant:
    """Mark an approved grant paid out. Idempotent: a fulfilled grant is returned
    as it is, never fulfilled twice. Voided: GrantVoided; pending: GrantNotApproved;
    held by an open fraud flag: GrantOnHold."""
    grant = _locked(grant)
    if grant.state == Grant.State.FULFILLED:
        return grant
    if grant.state == Grant.State.VOIDED:
        raise GrantVoided
    if grant.state != Grant.State.APPROVED:
        raise GrantNotApproved
    if grant_on_hold(grant=grant):
        raise GrantOnHold
    return _grant_move(grant, to="fulfilled", by=by, now=now)


@transaction.atomic
def grant_void(
    *,
    grant: Grant,
    by: User | None = None,
    reason: str = Grant.VoidReason.STAFF,
    now: datetime | None = None,
) -> Grant:
    """Void one grant (staff by hand). Already voided: returned as it is.
    Fulfilled grants are never voided (GrantFulfilled)."""
    grant = _locked(grant)
    if grant.state == Grant.State.VOIDED:
        return grant
    if grant.state == Grant.State.FULFILLED:
        raise GrantFulfilled
    [grant] = grants_void(grants=Grant.objects.filter(pk=grant.pk), reason=reason, by=by, now=now)
    return grant


@transaction.atomic
def grants_void(
    *, grants: QuerySet[Grant], reason: str, by: User | None = None, now: datetime | None = None
) -> list[Grant]:
    """Void the unfulfilled grants among `grants` with `reason`; returns those voided."""
    now = now or timezone.now()
    locked = list(grants.filter(state__in=Grant.UNFULFILLED).select_for_update().order_by("pk"))
    for grant in locked:
        grant.state, grant.reason = Grant.State.VOIDED, reason
        grant.voided_at, grant.voided_by = now, by
    Grant.objects.bulk_update(locked, ["state", "reason", "voided_at", "voided_by"])
    for grant in locked:
        grant_event(grant, "voided")
    versions_bump_after_commit(member_ids=[g.member_id for g in locked])
    if locked:
        logger.info("rewards voided count=%s reason=%s", len(locked), reason)
    return locked


def grants_of_member_void(*, member: User, reason: str, by: User | None = None) -> list[Grant]:
    """A member suspended or leaving: their own unfulfilled grants and those for them."""
    return grants_void(
        grants=Grant.objects.filter(Q(member_id=member.pk) | Q(referral_id=member.pk)),
        reason=reason,
        by=by,
    )


def grants_touched_by_flag_void(
    *, inviter_id: int, subject_id: int | None, by: User | None
) -> list[Grant]:
    """A flag marked fraud voids what it touches: one referral's referrer and friend
    grants, or, for a flag on the inviter as a whole, all the inviter's."""
    touched = (
        Grant.objects.filter(referral_id=subject_id)
        if subject_id is not None
        else Grant.objects.filter(member_id=inviter_id)
    )
    return grants_void(grants=touched, reason=Grant.VoidReason.FRAUD, by=by)


# --- the job -----------------------------------------------------------------


def grants_approve_due(*, now: datetime | None = None, batch_size: int = APPROVE_BATCH) -> int:
    """Approve every pending grant whose hold has passed, whose activation the fraud
    judging has read, and that no open flag touches; returns how many.

    Judges new activations first (idempotent, two queries when nothing is new), so
    a 0-day hold is approved on the first run after its activation was judged.
    Idempotent: a second run finds nothing to do. Batches lock their rows with
    SKIP LOCKED, so parallel runs never approve one grant twice.
    """
    fraud_services.flags_refresh()
    approved = 0
    after = 0
    while True:
        done, after, full = _approve_batch(now=now or timezone.now(), after=after, size=batch_size)
        approved += done
        if not full:
            return approved


@transaction.atomic
def _approve_batch(*, now: datetime, after: int, size: int) -> tuple[int, int, bool]:
    judged = fraud_selectors.judged_until()
    if judged is None:
        return 0, after, False
    due = list(
        Grant.objects.filter(
            state=Grant.State.PENDING, available_at__lte=now, activated_at__lt=judged, pk__gt=after
        )
        .select_for_update(skip_locked=True)
        .order_by("pk")[:size]
    )
    if not due:
        return 0, after, False
    subjects, inviters = fraud_selectors.open_flags_touching(
        referral_ids=(g.referral_id for g in due), member_ids=(g.member_id for g in due)
    )
    free = [g for g in due if g.referral_id not in subjects and g.member_id not in inviters]
    for grant in free:
        grant.state, grant.approved_at = Grant.State.APPROVED, now
    Grant.objects.bulk_update(free, ["state", "approved_at"])
    for grant in free:
        grant_event(grant, "approved")
    versions_bump_after_commit(member_ids=[g.member_id for g in free])
    if free:
        logger.info("rewards approved count=%s", len(free))
    return len(free), due[-1].pk, len(due) == size
