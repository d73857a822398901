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
from profiles.errors import InviteAlreadyActivated, InviteCycle, InviteNotFound, InviteOwnCode
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
