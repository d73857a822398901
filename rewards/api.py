"""The signed-in member's rewards over JSON: totals, the next milestone, the ledger."""

from django.core.paginator import Paginator
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from core.api.schema import UNAUTHORIZED, error_example, error_response
from profiles.selectors import referral_phone_shown
from rewards.models import Grant
from rewards.selectors import grants_of_member, rewards_summary

PAGE_SIZE = 50


class TotalsSerializer(serializers.Serializer):
    pending = serializers.IntegerField(help_text="In their hold, or held by a fraud review.")
    approved = serializers.IntegerField(help_text="Available: approved, not yet received.")
    fulfilled = serializers.IntegerField(help_text="Received.")


class NextMilestoneSerializer(serializers.Serializer):
    referrals_needed = serializers.IntegerField()
    amount = serializers.IntegerField()


class GrantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Grant.Kind.choices)
    amount = serializers.IntegerField()
    unit = serializers.CharField()
    state = serializers.ChoiceField(choices=Grant.State.choices)
    referral = serializers.CharField(
        allow_null=True,
        help_text="The referral's phone (E.164); null for a milestone or a departed account.",
    )
    milestone = serializers.IntegerField(
        allow_null=True, help_text="The milestone's referral count."
    )
    available_at = serializers.DateTimeField(help_text="When its hold ends.")
    reason = serializers.CharField(
        allow_null=True,
        help_text="Why it was voided (fraud, suspended, referral_left, staff, cap); "
        "on_review while an open fraud flag holds it; else null.",
    )
    created_at = serializers.DateTimeField()


class RewardsPageSerializer(serializers.Serializer):
    unit = serializers.CharField(
        allow_null=True, help_text="The program's unit: points or a currency code."
    )
    totals = TotalsSerializer()
    next_milestone = NextMilestoneSerializer(allow_null=True)
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = GrantSerializer(many=True)


EXAMPLE = OpenApiExample(
    "rewards",
    value={
        "unit": "points",
        "totals": {"pending": 150, "approved": 100, "fulfilled": 500},
        "next_milestone": {"referrals_needed": 2, "amount": 500},
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": 12,
                "kind": "referrer",
                "amount": 100,
                "unit": "points",
                "state": "pending",
                "referral": "+79997654321",
                "milestone": None,
                "available_at": "2026-12-15T09:30:00Z",
                "reason": None,
                "created_at": "2026-12-01T09:30:00Z",
            },
            {
                "id": 11,
                "kind": "milestone",
                "amount": 500,
                "unit": "points",
                "state": "fulfilled",
                "referral": None,
                "milestone": 3,
                "available_at": "2026-11-20T10:00:00Z",
                "reason": None,
                "created_at": "2026-11-06T10:00:00Z",
            },
        ],
    },
    response_only=True,
)


class RewardsApi(APIView):
    @extend_schema(
        tags=["rewards"],
        summary="The signed-in member's rewards: totals, the next milestone, the ledger",
        description=(
            f"Totals are sums of the ledger in the program's unit. {PAGE_SIZE} grants per "
            "page, newest first; a page number out of range gives the last page."
        ),
        parameters=[OpenApiParameter("page", int, description="Page number, from 1.")],
        responses={
            200: RewardsPageSerializer,
            400: error_response(
                "The query could not be read (a NUL character in it).",
                error_example(code="bad_request", detail="The request could not be read."),
            ),
            401: UNAUTHORIZED,
        },
        examples=[EXAMPLE],
    )
    def get(self, request: Request) -> Response:
        member = request.user
        summary = rewards_summary(member=member)  # type: ignore[arg-type]
        page = Paginator(grants_of_member(member=member), PAGE_SIZE).get_page(  # type: ignore[arg-type]
            request.query_params.get("page")
        )

        def url(number: int) -> str:
            return replace_query_param(request.build_absolute_uri(), "page", number)

        results = []
        for grant in page.object_list:
            reason = grant.reason or None
            if grant.on_hold and grant.state in Grant.UNFULFILLED:
                reason = "on_review"
            results.append(
                {
                    "id": grant.pk,
                    "kind": grant.kind,
                    "amount": grant.amount,
                    "unit": grant.unit,
                    "state": grant.state,
                    # As the referrals list and the data export show it (REFERRAL_PHONES).
                    "referral": referral_phone_shown(grant.referral_phone)
                    if grant.referral_phone
                    else None,
                    "milestone": grant.milestone,
                    "available_at": serializers.DateTimeField().to_representation(
                        grant.available_at
                    ),
                    "reason": reason,
                    "created_at": serializers.DateTimeField().to_representation(grant.created_at),
                }
            )
        nxt = summary.next_milestone if summary else None
        return Response(
            {
                "unit": summary.unit if summary else None,
                "totals": summary.totals
                if summary
                else {"pending": 0, "approved": 0, "fulfilled": 0},
                "next_milestone": (
                    {"referrals_needed": nxt.referrals_needed, "amount": nxt.amount}
                    if nxt
                    else None
                ),
                "count": page.paginator.count,
                "next": url(page.next_page_number()) if page.has_next() else None,
                "previous": url(page.previous_page_number()) if page.has_previous() else None,
                "results": results,
            }
        )
