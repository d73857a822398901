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
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from auth_flow.forms import PHONE_INVALID, PhoneForm
from core.api.fields import WebFormField
from core.api.schema import error_example, error_response, validation_example
from operator_api.authentication import ApiKeyAuthentication
from operator_api.selectors import member_record_get
from operator_api.throttles import ApiKeyRateThrottle
from rewards.selectors import grant_get, grants_list, grants_page
from rewards.services import grant_fulfil


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


# ---------------------------------------------------------------- rewards

REWARDS_PAGE_SIZE = 50


class RewardNotFound(exceptions.NotFound):
    default_detail = _("No reward has this id.")
    default_code = "reward_not_found"


class OperatorRewardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member = serializers.CharField(allow_null=True, help_text="The member's phone, E.164.")
    kind = serializers.ChoiceField(choices=["referrer", "friend", "milestone"])
    amount = serializers.IntegerField()
    unit = serializers.CharField()
    state = serializers.ChoiceField(choices=["pending", "approved", "fulfilled", "voided"])
    referral = serializers.CharField(
        allow_null=True, help_text="The referral it is for (phone, E.164); null for a milestone."
    )
    milestone = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(help_text="Why it was voided; empty otherwise.")
    available_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    fulfilled_at = serializers.DateTimeField(allow_null=True)

    @classmethod
    def represent(cls, grant: object) -> dict:
        return cls(
            {
                "id": grant.pk,
                "member": str(grant.member.phone) if grant.member_id else None,
                "kind": grant.kind,
                "amount": grant.amount,
                "unit": grant.unit,
                "state": grant.state,
                "referral": str(grant.referral.phone) if grant.referral_id else None,
                "milestone": grant.milestone,
                "reason": grant.reason,
                "available_at": grant.available_at,
                "created_at": grant.created_at,
                "fulfilled_at": grant.fulfilled_at,
            }
        ).data


class OperatorRewardPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = OperatorRewardSerializer(many=True)


class RewardsQuerySerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["pending", "approved", "fulfilled", "voided"], required=False
    )
    page = serializers.IntegerField(min_value=1, required=False, default=1)


GRANT_EXAMPLE = {
    "id": 7,
    "member": "+79991234567",
    "kind": "referrer",
    "amount": 100,
    "unit": "points",
    "state": "approved",
    "referral": "+79997654321",
    "milestone": None,
    "reason": "",
    "available_at": "2026-12-14T10:00:00Z",
    "created_at": "2026-11-30T10:00:00Z",
    "fulfilled_at": None,
}


class RewardsView(OperatorView):
    @extend_schema(
        tags=["operator"],
        summary="Rewards, newest first (e.g. the approved ones to pay out)",
        parameters=[
            OpenApiParameter("state", str, enum=["pending", "approved", "fulfilled", "voided"]),
            OpenApiParameter(
                "page",
                int,
                description="Page number, from 1; past the last page, no results.",
            ),
        ],
        examples=[
            OpenApiExample(
                "approved",
                value={"count": 1, "next": None, "previous": None, "results": [GRANT_EXAMPLE]},
                response_only=True,
            )
        ],
        responses={
            200: OperatorRewardPageSerializer,
            400: error_response(
                "An unknown state or page.",
                validation_example("state", '"paid" is not a valid choice.'),
            ),
            401: API_KEY_INVALID,
            429: THROTTLED,
        },
    )
    def get(self, request: Request) -> Response:
        query = RewardsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        grants = grants_list(state=query.validated_data.get("state"))
        # By ids first: a late page never builds the rows it skips (rewards.selectors).
        # Past the last page: no rows (a script paging until an empty page stops there),
        # and `previous` leads back to the last page that has some.
        page = grants_page(
            grants,
            number=query.validated_data["page"],
            per_page=REWARDS_PAGE_SIZE,
            past_end_empty=True,
        )
        paginator = page.paginator
        previous = min(page.number - 1, paginator.num_pages) if page.number > 1 else None

        def url(number: int) -> str:
            return replace_query_param(request.build_absolute_uri(), "page", number)

        return Response(
            {
                "count": paginator.count,
                "next": url(page.next_page_number()) if page.has_next() else None,
                "previous": url(previous) if previous else None,
                "results": [OperatorRewardSerializer.represent(g) for g in page.object_list],
            }
        )


class RewardFulfilView(OperatorView):
    @extend_schema(
        tags=["operator"],
        summary="Mark an approved reward paid out (idempotent)",
        description="A second call answers 200 with the same reward: never a second fulfilment.",
        request=None,
        examples=[
            OpenApiExample(
                "fulfilled",
                value={
                    **GRANT_EXAMPLE,
                    "state": "fulfilled",
                    "fulfilled_at": "2026-12-15T09:00:00Z",
                },
                response_only=True,
            )
        ],
        responses={
            200: OperatorRewardSerializer,
            401: API_KEY_INVALID,
            404: error_response(
                "No reward has this id.",
                error_example(code="reward_not_found", detail="No reward has this id."),
            ),
            409: error_response(
                "Voided, not yet approved, or held by an open fraud flag.",
                error_example(
                    code="reward_voided",
                    detail="This reward was voided; it cannot change any more.",
                ),
                error_example(
                    code="reward_not_approved", detail="This reward is not approved yet."
                ),
                error_example(
                    code="reward_on_hold",
                    detail="An open fraud flag holds this reward until staff review it.",
                ),
            ),
            429: THROTTLED,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        grant = grant_get(pk=pk)
        if grant is None:
            raise RewardNotFound()
        grant = grant_fulfil(grant=grant)
        return Response(OperatorRewardSerializer.represent(grant_get(pk=grant.pk)))
