"""The member's rewards in "Download my data" (web and API): every grant of their
ledger and the totals per unit.

Connected in RewardsConfig.ready() through profiles' `data_section_register`:
profiles imports nothing of rewards.
"""

from typing import Any

from django.db.models import Count, Sum

from profiles.member_data import data_section_register, iso
from profiles.models import User
from profiles.selectors import referral_phone_shown
from rewards.models import Grant
from rewards.selectors import grants_of_member

STATES = [state.value for state in Grant.State]


def rewards_data(member: User) -> dict[str, Any]:
    """Totals per unit (sums of the ledger by state, voided included) and each grant,
    newest first, the referral's phone as the member's referral list shows it."""
    grants = grants_of_member(member=member)
    totals: dict[str, dict[str, Any]] = {}
    sums = (
        Grant.objects.filter(member_id=member.pk)
        .values("unit", "state")
        .annotate(amount=Sum("amount"), count=Count("pk"))
        .order_by("unit", "state")
    )
    for row in sums:
        unit = totals.setdefault(
            row["unit"], {"unit": row["unit"], "grants": 0, **dict.fromkeys(STATES, 0)}
        )
        unit[row["state"]] = row["amount"]
        unit["grants"] += row["count"]
    return {
        "totals": list(totals.values()),
        "grants": [
            {
                "id": grant.pk,
                "kind": grant.kind,
                "amount": grant.amount,
                "unit": grant.unit,
                "state": grant.state,
                "on_review": grant.on_hold and grant.state in Grant.UNFULFILLED,
                "referral": referral_phone_shown(grant.referral_phone)
                if grant.referral_phone
                else None,
                "milestone": grant.milestone,
                "available_at": iso(grant.available_at),
                "reason": grant.reason or None,
                "created_at": iso(grant.created_at),
                "approved_at": iso(grant.approved_at),
                "fulfilled_at": iso(grant.fulfilled_at),
                "voided_at": iso(grant.voided_at),
            }
            for grant in grants.iterator(chunk_size=2000)
        ],
    }


def connect() -> None:
    data_section_register("rewards", rewards_data)
