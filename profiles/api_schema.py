"""What the profile API tells its readers: summaries, descriptions, examples and the
error answers of each endpoint, for drf-spectacular. The views (profiles/api.py) take
them as they are; nothing here runs on a request.
"""

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
)

from core.api.schema import (
    NOT_JSON_EXAMPLE,
    UNAUTHORIZED,
    UNSUPPORTED_MEDIA_TYPE,
    domain_error_example,
    error_response,
    validation_example,
)
from profiles.errors import (
    DeleteNotConfirmed,
    DeleteStaffAccount,
    InviteAlreadyActivated,
    InviteCycle,
    InviteNotFound,
    InviteOwnCode,
)
from profiles.selectors import REFERRALS_PAGE_SIZE

PROFILE_EXAMPLE = OpenApiExample(
    "member",
    value={
        "phone": "+79991234567",
        "invite_code": "ABC234",
        "activated_invite_code": "XYZ789",
        "referrals_count": 2,
        "referrals": ["+79997654321", "+12025550143"],
        "date_joined": "2026-01-15T09:30:00Z",
    },
    response_only=True,
)

PROFILE = dict(
    tags=["profile"],
    summary="The signed-in member's profile",
    examples=[PROFILE_EXAMPLE],
)

PROFILE_ERRORS = {
    401: UNAUTHORIZED,
}

INVITE_ACTIVATE = dict(
    tags=["profile"],
    summary="Enter a friend's invite code (once)",
    description="Not your own code, and not the code of anyone who joined through you, "
    "directly or down a chain.",
    examples=[
        OpenApiExample("code", value={"invite_code": "abc234"}, request_only=True),
        PROFILE_EXAMPLE,
    ],
)

INVITE_ACTIVATE_ERRORS = {
    400: error_response(
        "The code cannot be entered, or the field is invalid.",
        domain_error_example(InviteNotFound()),
        domain_error_example(InviteOwnCode()),
        domain_error_example(InviteAlreadyActivated()),
        domain_error_example(InviteCycle()),
        validation_example("invite_code", "An invite code is 6 letters and digits, like ABC234."),
        NOT_JSON_EXAMPLE,
    ),
    401: UNAUTHORIZED,
    415: UNSUPPORTED_MEDIA_TYPE,
}

REFERRALS = dict(
    tags=["profile"],
    summary="Members who joined with my code, newest first",
    description=f"{REFERRALS_PAGE_SIZE} per page. A page number out of range gives the last page.",
    parameters=[OpenApiParameter("page", int, description="Page number, from 1.")],
    examples=[
        OpenApiExample(
            "first page",
            value={
                "count": 51,
                "next": "https://example.org/api/v1/profile/referrals/?page=2",
                "previous": None,
                "results": [{"phone": "+79997654321", "joined_at": "2026-01-16T10:00:00Z"}],
            },
            response_only=True,
        )
    ],
)

REFERRALS_ERRORS = {
    401: UNAUTHORIZED,
}


PROFILE_DELETE = dict(
    tags=["profile"],
    summary="Delete my account",
    description="Deletes the member for good: every refresh token is blacklisted, the "
    "sign-in codes, their limits and the kept IP addresses go, the inviter's count goes "
    "down by one; members who joined with this code keep their accounts. `confirm` must "
    "be the member's own phone (E.164): anything else is 400 and deletes nothing.",
    examples=[OpenApiExample("confirm", value={"confirm": "+79991234567"}, request_only=True)],
)

PROFILE_DELETE_ERRORS = {
    400: error_response(
        "`confirm` is missing or is not the member's phone: nothing was deleted.",
        domain_error_example(DeleteNotConfirmed()),
        NOT_JSON_EXAMPLE,
    ),
    401: UNAUTHORIZED,
    403: error_response(
        "Staff accounts are removed by an administrator.",
        domain_error_example(DeleteStaffAccount()),
    ),
    415: UNSUPPORTED_MEDIA_TYPE,
}

EXPORT_EXAMPLE = {
    "exported_at": "2026-02-01T12:00:00Z",
    "phone": "+79991234567",
    "date_joined": "2026-01-15T09:30:00Z",
    "invite_code": "ABC234",
    "activated_invite_code": "XYZ789",
    "activated_at": "2026-01-15T09:31:10Z",
    "referrals": [{"phone": "+79997654321", "joined_at": "2026-01-16T10:00:00Z"}],
    "ip_addresses": {"first_sign_in": "203.0.113.7", "invite_activation": "203.0.113.7"},
    "sign_in_codes": [
        {
            "requested_at": "2026-02-01T11:58:00Z",
            "ip_address": "203.0.113.7",
            "state": "used",
            "delivery": "delivered",
            "used_at": "2026-02-01T11:58:30Z",
        }
    ],
    "rewards": {
        "totals": [
            {"unit": "points", "grants": 2, "pending": 0, "approved": 50, "fulfilled": 100,
             "voided": 0}
        ],
        "grants": [
            {"id": 12, "kind": "referrer", "amount": 100, "unit": "points",
             "state": "fulfilled", "on_review": False, "referral": "+79997654321",
             "milestone": None, "available_at": "2026-01-30T10:00:00Z", "reason": None,
             "created_at": "2026-01-16T10:00:00Z", "approved_at": "2026-01-30T10:05:00Z",
             "fulfilled_at": "2026-01-31T09:00:00Z", "voided_at": None},
            {"id": 11, "kind": "friend", "amount": 50, "unit": "points", "state": "approved",
             "on_review": False, "referral": "+79991234567", "milestone": None,
             "available_at": "2026-01-29T09:31:10Z", "reason": None,
             "created_at": "2026-01-15T09:31:10Z", "approved_at": "2026-01-29T09:35:00Z",
             "fulfilled_at": None, "voided_at": None},
        ],
    },
}  # fmt: skip

EXPORT = dict(
    tags=["profile"],
    summary="Everything kept about me (my data)",
    description="The member's phone, invite code, the code they entered and when, their "
    "referrals, the IP addresses kept, the sign-in codes still kept (never the codes), "
    "their rewards (every grant and the totals per unit) and any section other parts of "
    "the service add.",
    examples=[OpenApiExample("export", value=EXPORT_EXAMPLE, response_only=True)],
)

EXPORT_ERRORS = {
    401: UNAUTHORIZED,
}
