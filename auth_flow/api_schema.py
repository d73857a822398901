"""What the sign-in API tells its readers: summaries, descriptions, examples and the
error answers of each endpoint, for drf-spectacular. The views (auth_flow/api.py) take
them as they are; nothing here runs on a request.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter

from auth_flow.errors import (
    AccountDisabled,
    ChallengeThrottled,
    CodeAttemptsExhausted,
    CodeExpired,
    CodeInvalid,
    CodeNotRequested,
    CodeReplaced,
    CodeUsed,
    PhoneNotAllowed,
    SmsBudgetExhausted,
    SmsFallbackUnavailable,
    SmsUnavailable,
)
from auth_flow.forms import PHONE_INVALID
from core.api.schema import (
    NOT_JSON_EXAMPLE,
    UNSUPPORTED_MEDIA_TYPE,
    domain_error_example,
    error_example,
    error_response,
    validation_example,
)

CHALLENGE_EXAMPLE = "q2LrZbXo4V1m8sT0cJpK7wYfE3nH9dAa"

DEVICE_EXAMPLE = (
    "eyJwaG9uZSI6Iis3OTk5MTIzNDU2NyIsImRldmljZSI6IjNmYVE5In0:1tQ8xX:Zk3v0lYw9c2hN5qS1bA7uJ4eR8tM6oP"
)

TOKEN_INVALID = error_response(
    "The refresh token is malformed, expired, blacklisted (rotated or signed out) "
    "or its member is gone.",
    error_example(code="token_not_valid", detail="Token is blacklisted"),
    error_example(code="no_active_account", detail="No active account found for the given token."),
)

ACCESS_EXAMPLE = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.c2ln"

REFRESH_EXAMPLE = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2ln"

REFRESH_BODY_EXAMPLE = OpenApiExample(
    "refresh token", value={"refresh": REFRESH_EXAMPLE}, request_only=True
)

REFRESH_MISSING = error_response(
    "No refresh token in the body.",
    validation_example("refresh", "This field is required."),
    NOT_JSON_EXAMPLE,
)

CODE_REQUEST = dict(
    tags=["auth"],
    summary="Send a sign-in code (by Telegram or SMS)",
    description="Sends a 4-digit code, valid for `expires_in` seconds, and answers with a "
    "`challenge` token: only its holder can sign in with that code, so wrong "
    "guesses by anyone else never touch it. The answer is the same for a known "
    "and an unknown number. Limits per number and per client address answer 429 "
    "with `Retry-After`; a request with a valid `device_token` for the number "
    "counts against that device's own limits instead of the number's shared ones. "
    "Only mobile numbers get codes (400 `phone_not_allowed`); 503 with "
    "`Retry-After` when no SMS can go out now.",
    examples=[
        OpenApiExample("national", value={"phone": "8 999 123-45-67"}, request_only=True),
        OpenApiExample(
            "known device, resend",
            value={
                "phone": "+79991234567",
                "device_token": DEVICE_EXAMPLE,
                "challenge": CHALLENGE_EXAMPLE,
            },
            request_only=True,
        ),
        OpenApiExample(
            "send by SMS instead",
            value={"phone": "+79991234567", "challenge": CHALLENGE_EXAMPLE, "channel": "sms"},
            request_only=True,
        ),
        OpenApiExample(
            "by Telegram",
            value={
                "phone": "+79991234567",
                "challenge": CHALLENGE_EXAMPLE,
                "expires_in": 300,
                "resend_in": 60,
                "channel": "telegram",
            },
            response_only=True,
            status_codes=["202"],
        ),
        OpenApiExample(
            "demo",
            value={
                "phone": "+79991234567",
                "challenge": CHALLENGE_EXAMPLE,
                "expires_in": 300,
                "resend_in": 60,
                "channel": "sms",
                "demo_code": "4821",
            },
            response_only=True,
            status_codes=["202"],
        ),
    ],
    parameters=[
        OpenApiParameter(
            "Retry-After",
            int,
            OpenApiParameter.HEADER,
            response=[429, 503],
            description="Seconds until a code may be asked for again.",
        )
    ],
)

CODE_REQUEST_ERRORS = {
    400: error_response(
        "Not a phone number, a number codes do not go to (premium-rate, landline, "
        "another region...; or refused by the SMS provider), or not JSON.",
        validation_example("phone", str(PHONE_INVALID)),
        domain_error_example(PhoneNotAllowed()),
        domain_error_example(SmsFallbackUnavailable()),
        NOT_JSON_EXAMPLE,
    ),
    415: UNSUPPORTED_MEDIA_TYPE,
    429: error_response(
        "Over a limit; `Retry-After` says when to try again.",
        *(
            domain_error_example(ChallengeThrottled(reason, retry_after=45))
            for reason in ChallengeThrottled.reasons
        ),
    ),
    503: error_response(
        "No SMS can go out now: the provider is down or timed out (nothing was "
        "sent, and the number's limits are not charged), or the service's hourly "
        "SMS budget is spent. `Retry-After` says when to try again.",
        domain_error_example(SmsUnavailable(30)),
        domain_error_example(SmsBudgetExhausted(1800)),
    ),
}

TOKEN_OBTAIN = dict(
    tags=["auth"],
    summary="Sign in with the code: get an access and a refresh token",
    description="The first sign-in of a number creates the member. Send the `challenge` "
    "of your code request: a code answers only its own challenge. A code works "
    "once; after 3 wrong attempts it is void. A deactivated member is refused "
    "(403 `account_disabled`) and the code stays unspent.",
    examples=[
        OpenApiExample(
            "sign-in",
            value={"phone": "+79991234567", "code": "4821", "challenge": CHALLENGE_EXAMPLE},
            request_only=True,
        ),
        OpenApiExample(
            "new member",
            value={
                "access": ACCESS_EXAMPLE,
                "refresh": REFRESH_EXAMPLE,
                "created": True,
                "user": {
                    "phone": "+79991234567",
                    "invite_code": "ABC234",
                    "date_joined": "2026-01-15T09:30:00Z",
                },
                "device_token": DEVICE_EXAMPLE,
            },
            response_only=True,
        ),
    ],
)

TOKEN_OBTAIN_ERRORS = {
    400: error_response(
        "A wrong, expired or used-up code; an older code after a newer one was sent "
        "(`code_replaced`: costs no attempt); no code requested with this `challenge` "
        "(missing, unknown, or another number's: nothing is counted); invalid fields.",
        domain_error_example(CodeInvalid(2)),
        domain_error_example(CodeAttemptsExhausted()),
        domain_error_example(CodeExpired()),
        domain_error_example(CodeUsed()),
        domain_error_example(CodeReplaced()),
        domain_error_example(CodeNotRequested()),
        validation_example("code", "The code is 4 digits."),
        validation_example("challenge", "This field is required."),
        NOT_JSON_EXAMPLE,
    ),
    403: error_response(
        "The right code, but the member is deactivated: no tokens, the code stays unspent.",
        domain_error_example(AccountDisabled()),
    ),
    415: UNSUPPORTED_MEDIA_TYPE,
}

TOKEN_REFRESH = dict(
    tags=["auth"],
    summary="Trade a refresh token for a new pair",
    description="Rotation: the refresh token sent is blacklisted, use the new one.",
    examples=[
        REFRESH_BODY_EXAMPLE,
        OpenApiExample(
            "new pair",
            value={"access": ACCESS_EXAMPLE, "refresh": REFRESH_EXAMPLE},
            response_only=True,
        ),
    ],
)

TOKEN_REFRESH_ERRORS = {
    400: REFRESH_MISSING,
    401: TOKEN_INVALID,
    415: UNSUPPORTED_MEDIA_TYPE,
}

LOGOUT = dict(
    tags=["auth"],
    summary="Sign out: blacklist the refresh token",
    description="Access tokens already issued stay valid until they expire (minutes).",
    examples=[REFRESH_BODY_EXAMPLE],
)

LOGOUT_ERRORS = {
    204: None,
    400: REFRESH_MISSING,
    401: TOKEN_INVALID,
    415: UNSUPPORTED_MEDIA_TYPE,
}
