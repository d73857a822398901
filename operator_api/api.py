"""The operator's API for the business's own systems (`/api/v1/operator/`).

Every endpoint takes `Authorization: Api-Key <key>` (operator_api/authentication.py)
and is rate-limited per key across processes (operator_api/throttles.py).
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from auth_flow.forms import PHONE_INVALID, PhoneForm
from core.api.fields import WebFormField
from core.api.schema import error_example, error_response, validation_example
from operator_api.authentication import ApiKeyAuthentication
from operator_api.selectors import member_record_get
from operator_api.throttles import ApiKeyRateThrottle


class MemberNotFound(exceptions.NotFound):
    default_detail = _("No member has this phone number.")
    default_code = "member_not_found"


API_KEY_INVALID = error_response(
    "No API key, or one that is wrong, revoked or expired.",
    error_example(code="api_key_invalid", detail="The API key is missing, wrong or revoked."),
)
THROTTLED = error_response(
    "This key made too many requests this minute: wait Retry-After seconds.",
    error_example(
        code="throttled", detail="Request was throttled. Expected available in 42 seconds."
    ),
)


class OperatorView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    # The key is the permission: authentication refuses everything else with a 401.
    permission_classes = [AllowAny]
    throttle_classes = [ApiKeyRateThrottle]


class MemberQuerySerializer(serializers.Serializer):
    phone = WebFormField(form=PhoneForm, help_text="The member's phone, any spelling.")


class OperatorMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    phone = serializers.CharField(help_text="E.164.")
    invite_code = serializers.CharField()
    invited_by = serializers.CharField(allow_null=True, help_text="The inviter's phone, E.164.")
    activated_at = serializers.DateTimeField(allow_null=True)
    referrals_count = serializers.IntegerField()
    date_joined = serializers.DateTimeField()
    active = serializers.BooleanField(help_text="False once suspended or deactivated.")


MEMBER_EXAMPLE = OpenApiExample(
    "member",
    value={
        "id": 42,
        "phone": "+79991234567",
        "invite_code": "ABC234",
        "invited_by": "+79997654321",
        "activated_at": "2026-11-30T10:15:00Z",
        "referrals_count": 3,
        "date_joined": "2026-11-29T08:00:00Z",
        "active": True,
    },
    response_only=True,
)


class MemberView(OperatorView):
    @extend_schema(
        tags=["operator"],
        summary="Read one member by phone",
        parameters=[OpenApiParameter("phone", str, required=True, description="Any spelling.")],
        examples=[MEMBER_EXAMPLE],
        responses={
            200: OperatorMemberSerializer,
            400: error_response(
                "Not a phone number.", validation_example("phone", str(PHONE_INVALID))
            ),
            401: API_KEY_INVALID,
            404: error_response(
                "No member has this phone.",
                error_example(code="member_not_found", detail="No member has this phone number."),
            ),
            429: THROTTLED,
        },
    )
    def get(self, request: Request) -> Response:
        query = MemberQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        record = member_record_get(phone=query.validated_data["phone"])
        if record is None:
            raise MemberNotFound()
        return Response(OperatorMemberSerializer(record).data)
