"""A member's own data, as one JSON document ("Download my data", the API's export).

profiles writes the sections it owns (the member, the code they entered, their
referrals, the IPs kept on their row); other apps add theirs through
`data_section_register` in their ready(): auth_flow its sign-in codes, rewards
its grants. profiles imports none of them.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils import timezone

from profiles.models import User

# A section: the member -> anything json.dumps takes (datetimes given as ISO-8601 text).
DataSection = Callable[[User], Any]

_sections: dict[str, DataSection] = {}


def data_section_register(name: str, section: DataSection) -> None:
    """Add `name` to every member's export, filled by `section(member)`. Idempotent."""
    _sections[name] = section


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.UTC).isoformat().replace("+00:00", "Z") if moment else None


def member_data_collect(*, member: User) -> dict[str, Any]:
    """Everything kept about `member`, their own sections first, then each registered one."""
    # Imported here: selectors import this module's siblings, not the other way round.
    from profiles.selectors import referral_phone_shown, referrals_list

    inviter = (
        User.objects.filter(pk=member.referred_by_id).values_list("invite_code", flat=True).first()
        if member.referred_by_id
        else None
    )
    data: dict[str, Any] = {
        "exported_at": iso(timezone.now()),
        "phone": str(member.phone),
        "date_joined": iso(member.date_joined),
        "invite_code": member.invite_code,
        "activated_invite_code": inviter,
        "activated_at": iso(member.activated_at),
        "referrals": [
            {"phone": referral_phone_shown(phone), "joined_at": iso(joined)}
            for phone, joined in referrals_list(user=member).iterator(chunk_size=2000)
        ],
        "ip_addresses": {
            "first_sign_in": member.signup_ip,
            "invite_activation": member.activation_ip,
        },
    }
    for name, section in _sections.items():
        data[name] = section(member)
    return data
