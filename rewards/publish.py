"""Every grant transition is an event, written in the transaction of its change
through the outbox (`events.services.event_publish`)."""

from typing import Any

from events.payloads import iso_utc
from events.services import event_publish
from rewards.models import Grant


def grant_payload(grant: Grant) -> dict[str, Any]:
    """Ids, E.164 phones and ISO-8601 UTC times, as every event payload keeps to."""
    created = iso_utc(grant.created_at)
    moved = grant.voided_at or grant.fulfilled_at or grant.approved_at
    return {
        "id": grant.pk,
        "member_id": grant.member_id,
        "kind": grant.kind,
        "referral_id": grant.referral_id,
        "milestone": grant.milestone,
        "amount": grant.amount,
        "unit": grant.unit,
        "state": grant.state,
        "reason": grant.reason or None,
        "available_at": iso_utc(grant.available_at),
        "created_at": created,
        # A new grant's event happened when it was made (the text made once).
        "occurred_at": created if moved is None else iso_utc(moved),
    }


def grant_event(grant: Grant, event: str) -> None:
    """Publish `reward.<event>` for `grant`, inside the caller's transaction."""
    event_publish(type=f"reward.{event}", data=grant_payload(grant))
