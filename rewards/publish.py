"""Every grant transition is an event, written in the transaction of its change
through the outbox (`events.services.event_publish`)."""

from typing import Any

from events.payloads import iso_utc
from events.services import event_publish
from rewards.models import Grant


def grant_payload(grant: Grant) -> dict[str, Any]:
    """Ids, E.164 phones and ISO-8601 UTC times, as every event payload keeps to."""
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
        "created_at": iso_utc(grant.created_at),
        "occurred_at": iso_utc(
            grant.voided_at or grant.fulfilled_at or grant.approved_at or grant.created_at
        ),
    }


def grant_event(grant: Grant, event: str) -> None:
    """Publish `reward.<event>` for `grant`, inside the caller's transaction."""
    event_publish(type=f"reward.{event}", data=grant_payload(grant))
