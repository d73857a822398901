"""Sign-in over JSON: ask for a code, trade it for JWTs, refresh them, sign out.

The rules are the services' and the web forms' (see core.api.fields.WebFormField);
these views only translate between JSON and those calls.
"""

from django.db import transaction
from django.urls import path
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import AuthenticationFailed, TokenError
from rest_framework_simplejwt.serializers import TokenBlacklistSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenRefreshView, TokenViewBase

from auth_flow.errors import (
    AccountDisabled,
    ChallengeThrottled,
    CodeAttemptsExhausted,
    CodeExpired,
    CodeInvalid,
    CodeNotRequested,
    CodeUsed,
    PhoneNotAllowed,
    SmsBudgetExhausted,
    SmsFallbackUnavailable,
    SmsUnavailable,
)
from auth_flow.forms import CODE_INPUT_MAX, PHONE_INVALID, CodeForm, PhoneForm
from auth_flow.services import CHALLENGE_TOKEN_MAX_LENGTH, challenge_issue, challenge_verify
from core.api.fields import WebFormField
from core.api.schema import (
    NOT_JSON_EXAMPLE,
    UNSUPPORTED_MEDIA_TYPE,
    domain_error_example,
    error_example,
    error_response,
    validation_example,
)
from core.db import advisory_lock
from core.http import client_ip
from profiles.models import User

PHONE_HELP = "A phone number, international or national (default region), e.g. +7 999 123-45-67."
CHALLENGE_EXAMPLE = "q2LrZbXo4V1m8sT0cJpK7wYfE3nH9dAa"
DEVICE_EXAMPLE = (
    "eyJwaG9uZSI6Iis3OTk5MTIzNDU2NyIsImRldmljZSI6IjNmYVE5In0:1tQ8xX:Zk3v0lYw9c2hN5qS1bA7uJ4eR8tM6oP"
)
DEVICE_HELP = (
    "The `device_token` of an earlier sign-in to this number: the request then has its "
    "own limits, which other clients cannot use up. An invalid, expired or another "
    "number's token is ignored (the request counts as anyone's)."
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


class SendCodeSerializer(serializers.Serializer):
    phone = WebFormField(form=PhoneForm, max_length=32, help_text=PHONE_HELP)
    # No length limit or format here: a token that is not valid is ignored, never an error.
    device_token = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text=DEVICE_HELP
    )
    challenge = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="On a resend: the `challenge` of your previous code, which the new one voids.",
    )
    channel = serializers.ChoiceField(
        choices=["sms"],
        required=False,
        allow_null=True,
        help_text='`"sms"` with the `challenge` of a code that went by Telegram: send it by '
        "SMS instead (once per code, even inside the resend wait; the hourly and daily "
        "limits still count).",
    )


class CodeSentSerializer(serializers.Serializer):
    phone = serializers.CharField(help_text="The number in E.164.")
    challenge = serializers.CharField(
        help_text="Opaque token of this code request; /auth/token/ needs it with the code. "
        "Keep it secret: only its holder can answer the code."
    )
    expires_in = serializers.IntegerField(help_text="Seconds the code stays valid.")
    resend_in = serializers.IntegerField(help_text="Seconds until another code may be asked for.")
    channel = serializers.ChoiceField(
        choices=["telegram", "sms"],
        help_text="How the code went: in Telegram (a number on Telegram, where configured) "
        "or by SMS.",
    )
    demo_code = serializers.CharField(
        required=False, help_text="Only with the demo SMS backend: the code itself."
    )


class CodeRequestApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        tags=["auth"],
        summary="Send a sign-in code (by Telegram or SMS)",
        description=(
            "Sends a 4-digit code, valid for `expires_in` seconds, and answers with a "
            "`challenge` token: only its holder can sign in with that code, so wrong "
            "guesses by anyone else never touch it. The answer is the same for a known "
            "and an unknown number. Limits per number and per client address answer 429 "
            "with `Retry-After`; a request with a valid `device_token` for the number "
            "counts against that device's own limits instead of the number's shared ones. "
            "Only mobile numbers get codes (400 `phone_not_allowed`); 503 with "
            "`Retry-After` when no SMS can go out now."
        ),
        request=SendCodeSerializer,
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
        responses={
            202: CodeSentSerializer,
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
        },
    )
    def post(self, request: Request) -> Response:
        serializer = SendCodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = challenge_issue(
            phone=serializer.validated_data["phone"],
            ip=client_ip(request),
            device_token=serializer.validated_data.get("device_token") or "",
            previous=serializer.validated_data.get("challenge") or "",
            by_sms=serializer.validated_data.get("channel") == "sms",
        )
        data = {
            "phone": issued.phone,
            "challenge": issued.challenge,
            "expires_in": issued.expires_in,
            "resend_in": issued.resend_in,
            "channel": issued.channel,
        }
        if issued.demo_code is not None:
            data["demo_code"] = issued.demo_code
        return Response(CodeSentSerializer(data).data, status=status.HTTP_202_ACCEPTED)


class SignInSerializer(serializers.Serializer):
    phone = WebFormField(form=PhoneForm, max_length=32, help_text=PHONE_HELP)
    code = WebFormField(
        form=CodeForm,
        max_length=CODE_INPUT_MAX,
        help_text="The 4 digits from the SMS (spaces, dashes and text around them are ignored).",
    )
    challenge = serializers.CharField(
        max_length=CHALLENGE_TOKEN_MAX_LENGTH,
        help_text="The `challenge` from the answer to your code request.",
    )


class MemberSerializer(serializers.Serializer):
    phone = serializers.CharField()
    invite_code = serializers.CharField()
    date_joined = serializers.DateTimeField()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Send as `Authorization: Bearer <access>`.")
    refresh = serializers.CharField(help_text="Trade for a new pair at /auth/token/refresh/.")
    created = serializers.BooleanField(help_text="Whether this sign-in created the member.")
    user = MemberSerializer()
    device_token = serializers.CharField(
        help_text="Keep it and send it with this number's next code requests: they then "
        "have this device's own limits. Valid for a year."
    )


class TokenObtainApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        tags=["auth"],
        summary="Sign in with the code: get an access and a refresh token",
        description=(
            "The first sign-in of a number creates the member. Send the `challenge` "
            "of your code request: a code answers only its own challenge. A code works "
            "once; after 3 wrong attempts it is void. A deactivated member is refused "
            "(403 `account_disabled`) and the code stays unspent."
        ),
        request=SignInSerializer,
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
        responses={
            200: TokenPairSerializer,
            400: error_response(
                "A wrong, expired or used-up code; no code requested with this `challenge` "
                "(missing, unknown, or another number's: nothing is counted); invalid fields.",
                domain_error_example(CodeInvalid(2)),
                domain_error_example(CodeAttemptsExhausted()),
                domain_error_example(CodeExpired()),
                domain_error_example(CodeUsed()),
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
        },
    )
    def post(self, request: Request) -> Response:
        serializer = SignInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signed_in = challenge_verify(**serializer.validated_data, ip=client_ip(request))
        refresh = RefreshToken.for_user(signed_in.user)
        pair = {
            "access": str(refresh.access_token),
            "refresh": str(refresh),
            "created": signed_in.created,
            "user": signed_in.user,
            "device_token": signed_in.device_token,
        }
        return Response(TokenPairSerializer(pair).data)


def _spend_refresh_token_alone(raw: object) -> None:
    """Let one request at a time spend this refresh token, until the transaction ends.

    simplejwt checks the blacklist, then adds to it: two parallel refreshes (or a
    refresh and a logout) of one token would both pass the check. The lock key is
    read without verifying the token; simplejwt's own validation still refuses
    a bad one.
    """
    try:
        jti = RefreshToken(str(raw), verify=False).payload.get("jti")
    except TokenError:
        return
    if jti:
        advisory_lock(f"jwt:refresh:{jti}")


class RefreshSerializer(TokenRefreshSerializer):
    def validate(self, attrs: dict) -> dict:
        with transaction.atomic():
            _spend_refresh_token_alone(attrs.get("refresh"))
            # simplejwt looks the member up with .get(): a deleted member would be a 500.
            try:
                return super().validate(attrs)
            except User.DoesNotExist as error:
                raise AuthenticationFailed(
                    self.error_messages["no_active_account"], "no_active_account"
                ) from error


class LogoutSerializer(TokenBlacklistSerializer):
    def validate(self, attrs: dict) -> dict:
        with transaction.atomic():
            _spend_refresh_token_alone(attrs.get("refresh"))
            return super().validate(attrs)


class RefreshTokenSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class RefreshedPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField(help_text="The new refresh token; the one sent is now void.")


@extend_schema(
    tags=["auth"],
    summary="Trade a refresh token for a new pair",
    description="Rotation: the refresh token sent is blacklisted, use the new one.",
    request=RefreshTokenSerializer,
    examples=[
        REFRESH_BODY_EXAMPLE,
        OpenApiExample(
            "new pair",
            value={"access": ACCESS_EXAMPLE, "refresh": REFRESH_EXAMPLE},
            response_only=True,
        ),
    ],
    responses={
        200: RefreshedPairSerializer,
        400: REFRESH_MISSING,
        401: TOKEN_INVALID,
        415: UNSUPPORTED_MEDIA_TYPE,
    },
)
class TokenRefreshApi(TokenRefreshView):
    serializer_class = RefreshSerializer


class LogoutApi(TokenViewBase):
    """simplejwt's blacklist view (no access token needed: the refresh token is the proof,
    so signing out works after the access token expired), answering 204."""

    serializer_class = LogoutSerializer

    @extend_schema(
        tags=["auth"],
        summary="Sign out: blacklist the refresh token",
        description="Access tokens already issued stay valid until they expire (minutes).",
        request=RefreshTokenSerializer,
        examples=[REFRESH_BODY_EXAMPLE],
        responses={
            204: None,
            400: REFRESH_MISSING,
            401: TOKEN_INVALID,
            415: UNSUPPORTED_MEDIA_TYPE,
        },
    )
    def post(self, request: Request) -> Response:
        super().post(request)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("code/", CodeRequestApi.as_view(), name="api-code-request"),
    path("token/", TokenObtainApi.as_view(), name="api-token"),
    path("token/refresh/", TokenRefreshApi.as_view(), name="api-token-refresh"),
    path("logout/", LogoutApi.as_view(), name="api-logout"),
]
