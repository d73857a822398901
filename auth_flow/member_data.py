"""What auth_flow keeps about a member: in their data export, and gone with their account.

Connected in AuthFlowConfig.ready(). auth_flow imports profiles (never the other
way round), so profiles' deletion and export reach auth_flow's rows through a
pre_delete receiver and a registered export section.
"""

from typing import Any

from django.db.models.signals import pre_delete

from auth_flow.models import Challenge
from profiles.member_data import data_section_register, iso
from profiles.models import User


def sign_in_codes(member: User) -> list[dict[str, Any]]:
    """The sign-in codes asked for this phone that are still kept (a day at most):
    when, from which address, what became of them. Never the code or its hash."""
    rows = (
        Challenge.objects.filter(phone=member.phone)
        .order_by("-created_at")
        .values("created_at", "ip", "state", "delivery", "used_at")
    )
    return [
        {
            "requested_at": iso(row["created_at"]),
            "ip_address": row["ip"],
            "state": row["state"],
            "delivery": row["delivery"],
            "used_at": iso(row["used_at"]),
        }
        for row in rows
    ]


def member_challenges_forget(sender: type[User], instance: User, **kwargs: Any) -> None:
    """A member is deleted: their codes go, and with them the limits counted on them
    (per phone, per device, per address) and the addresses they were asked from."""
    Challenge.objects.filter(phone=instance.phone).delete()


def connect() -> None:
    data_section_register("sign_in_codes", sign_in_codes)
    pre_delete.connect(member_challenges_forget, sender=User, dispatch_uid="auth_flow.member")
