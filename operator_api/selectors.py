"""What the operator's own systems may read about a member."""

from dataclasses import dataclass
from datetime import datetime

from profiles.models import User


@dataclass(frozen=True)
class MemberRecord:
    id: int
    phone: str
    invite_code: str
    invited_by: str | None
    activated_at: datetime | None
    referrals_count: int
    date_joined: datetime
    active: bool


def member_record_get(*, phone: str) -> MemberRecord | None:
    """One member by E.164 phone, with who invited them (also as a phone)."""
    row = (
        User.objects.filter(phone=phone)
        .values(
            "pk",
            "phone",
            "invite_code",
            "referred_by__phone",
            "activated_at",
            "referrals_count",
            "date_joined",
            "is_active",
        )
        .first()
    )
    if row is None:
        return None
    return MemberRecord(
        id=row["pk"],
        phone=str(row["phone"]),
        invite_code=row["invite_code"],
        invited_by=str(row["referred_by__phone"]) if row["referred_by__phone"] else None,
        activated_at=row["activated_at"],
        referrals_count=row["referrals_count"],
        date_joined=row["date_joined"],
        active=row["is_active"],
    )
