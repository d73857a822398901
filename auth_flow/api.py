"""Sign-in over JSON: ask for a code, trade it for JWTs, refresh them, sign out.

The rules are the services' and the web forms' (see core.api.fields.WebFormField);
these views only translate between JSON and those calls.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import AuthenticationFailed, TokenError
from rest_framework_simplejwt.serializers import TokenBlacklistSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenRefreshView, TokenViewBase

from auth_flow import api_schema as schema
from auth_flow.forms import CODE_INPUT_MAX, CodeForm, PhoneForm
from auth_flow.services import CHALLENGE_TOKEN_MAX_LENGTH, challenge_issue, challenge_verify
from core.api.fields import WebFormField
from core.db import advisory_lock
from core.http import client_ip
from profiles.models import User

PHONE_HELP = "A phone number, international or national (default region), e.g. +7 999 123-45-67."
DEVICE_HELP = (
    "The `device_token` of an earlier sign-in to this number: the request then has its "
    "own limits, which other clients cannot use up. An invalid, expired or another "
    "number's token is ignored (the request counts as anyone's)."
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


# The code request's fields that are plain strings (or null, or left out).
_CODE_REQUEST_TEXT = ("device_token", "challenge")


def code_request_input(data: object) -> dict | None:
    """The code request's body as SendCodeSerializer would validate it, without the
    serializer, or None when the body is anything but plainly valid.

    Every code request of a burst is validated, and DRF's serializer pass (copying
    its fields, a form instance per field) was a sixth of the view's CPU. This takes
    the common body the shortest way: an object whose phone the web form's own field
    accepts, whose token and challenge are ASCII strings (or null, or missing) and
    whose channel is "sms" (or null, or missing). Anything else, valid or not, goes
    to the serializer, which answers exactly as before (its errors are the API's).
    """
    if type(data) is not dict:
        return None
    phone = data.get("phone")
    if type(phone) is not str:
        return None
    validated = {}
    for name in _CODE_REQUEST_TEXT:
        if name not in data:
            continue
        value = data[name]
        if value is not None:
            # The serializer's CharField strips, and refuses NUL and surrogates.
            if type(value) is not str or not value.isascii() or "\x00" in value:
                return None
            value = value.strip()
        validated[name] = value
    if "channel" in data:
        if data["channel"] not in (None, "sms"):
            return None
        validated["channel"] = data["channel"]
    try:
        # What WebFormField runs: the web form's field and its clean_phone (E.164).
        number = PhoneForm.base_fields["phone"].clean(phone.strip())
    except ValidationError:
        return None
    validated["phone"] = number.as_e164
    return validated


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
        request=SendCodeSerializer,
        responses={202: CodeSentSerializer, **schema.CODE_REQUEST_ERRORS},
        **schema.CODE_REQUEST,
    )
    def post(self, request: Request) -> Response:
        validated = code_request_input(request.data)
        if validated is None:
            serializer = SendCodeSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            validated = serializer.validated_data
        issued = challenge_issue(
            phone=validated["phone"],
            ip=client_ip(request),
            device_token=validated.get("device_token") or "",
            previous=validated.get("challenge") or "",
            by_sms=validated.get("channel") == "sms",
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
        # Already the answer CodeSentSerializer documents (strings and ints): passing
        # it through the serializer cost a tenth of a code request's CPU.
        return Response(data, status=status.HTTP_202_ACCEPTED)


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
        request=SignInSerializer,
        responses={200: TokenPairSerializer, **schema.TOKEN_OBTAIN_ERRORS},
        **schema.TOKEN_OBTAIN,
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


# Of the refresh serializers, these two validate (simplejwt's, one spender at a time)
# and document the request; RefreshedPairSerializer documents the answer.
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


class RefreshedPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField(help_text="The new refresh token; the one sent is now void.")


@extend_schema(
    request=RefreshSerializer,
    responses={200: RefreshedPairSerializer, **schema.TOKEN_REFRESH_ERRORS},
    **schema.TOKEN_REFRESH,
)
class TokenRefreshApi(TokenRefreshView):
    serializer_class = RefreshSerializer


class LogoutApi(TokenViewBase):
    """simplejwt's blacklist view (no access token needed: the refresh token is the proof,
    so signing out works after the access token expired), answering 204."""

    serializer_class = LogoutSerializer

    @extend_schema(
        request=LogoutSerializer,
        responses={**schema.LOGOUT_ERRORS},
        **schema.LOGOUT,
    )
    def post(self, request: Request) -> Response:
        super().post(request)
        return Response(status=status.HTTP_204_NO_CONTENT)
