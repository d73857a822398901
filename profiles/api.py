"""The signed-in member over JSON: profile, a friend's invite code, referrals."""

from django.core.paginator import Page
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication

from core.api.fields import WebFormField
from core.api.schema import (
    NOT_JSON_EXAMPLE,
    UNAUTHORIZED,
    UNSUPPORTED_MEDIA_TYPE,
    domain_error_example,
    error_response,
    validation_example,
)
from core.http import client_ip
from profiles.errors import InviteAlreadyActivated, InviteCycle, InviteNotFound, InviteOwnCode
from profiles.forms import InviteForm
from profiles.selectors import REFERRALS_PAGE_SIZE, ProfileSummary, profile_get, referrals_page
from profiles.services import invite_activate

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


_DATE_TIME = serializers.DateTimeField()


class ProfileSerializer(serializers.Serializer):
    phone = serializers.CharField()
    invite_code = serializers.CharField()
    activated_invite_code = serializers.CharField(
        allow_null=True, help_text="The friend's code this member entered; null until then."
    )
    referrals_count = serializers.IntegerField(source="referrals.paginator.count")
    referrals = serializers.SerializerMethodField(
        help_text=f"Phones of the newest {REFERRALS_PAGE_SIZE} referrals, newest first."
    )
    date_joined = serializers.DateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_referrals(self, summary: ProfileSummary) -> list[str]:
        return [member.phone for member in summary.referrals]

    @classmethod
    def represent(cls, summary: ProfileSummary) -> dict[str, object]:
        """`.data` without the field-by-field walk, for the hottest read of the API.

        About a sixth of a profile request's CPU; the fields are plain values
        already. tests/profiles/test_api.py holds it equal to `.data`.
        """
        return {
            "phone": summary.phone,
            "invite_code": summary.invite_code,
            "activated_invite_code": summary.activated_invite_code,
            "referrals_count": summary.referrals.paginator.count,
            "referrals": [member.phone for member in summary.referrals],
            "date_joined": _DATE_TIME.to_representation(summary.date_joined),
        }


def _profile(member: object) -> ProfileSummary:
    summary = profile_get(user=member)  # type: ignore[arg-type]
    if summary is None:
        # As the token check says it when it looks the member up itself.
        raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
    return summary


class ProfileApi(APIView):
    def get_authenticators(self) -> list[BaseAuthentication]:
        # The token names the member; the profile's one query checks they are still
        # active, so the usual lookup of the member would be a second query. The
        # schema documents the API's one bearer scheme: the token is the same.
        if getattr(self, "swagger_fake_view", False):
            return super().get_authenticators()
        return [JWTStatelessUserAuthentication()]

    @extend_schema(
        tags=["profile"],
        summary="The signed-in member's profile",
        responses={200: ProfileSerializer, 401: UNAUTHORIZED},
        examples=[PROFILE_EXAMPLE],
    )
    def get(self, request: Request) -> Response:
        return Response(ProfileSerializer.represent(_profile(request.user)))


class InviteSerializer(serializers.Serializer):
    invite_code = WebFormField(
        form=InviteForm,
        max_length=64,
        help_text="A friend's 6-character code; case and surrounding spaces do not matter.",
    )


class InviteActivateApi(APIView):
    @extend_schema(
        tags=["profile"],
        summary="Enter a friend's invite code (once)",
        description=(
            "Not your own code, and not the code of anyone who joined through you, "
            "directly or down a chain."
        ),
        request=InviteSerializer,
        examples=[
            OpenApiExample("code", value={"invite_code": "abc234"}, request_only=True),
            PROFILE_EXAMPLE,
        ],
        responses={
            200: ProfileSerializer,
            400: error_response(
                "The code cannot be entered, or the field is invalid.",
                domain_error_example(InviteNotFound()),
                domain_error_example(InviteOwnCode()),
                domain_error_example(InviteAlreadyActivated()),
                domain_error_example(InviteCycle()),
                validation_example(
                    "invite_code", "An invite code is 6 letters and digits, like ABC234."
                ),
                NOT_JSON_EXAMPLE,
            ),
            401: UNAUTHORIZED,
            415: UNSUPPORTED_MEDIA_TYPE,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = InviteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = invite_activate(
            user=request.user,
            code=serializer.validated_data["invite_code"],
            ip=client_ip(request),
        )
        return Response(ProfileSerializer.represent(_profile(member)))


class ReferralSerializer(serializers.Serializer):
    phone = serializers.CharField()
    joined_at = serializers.DateTimeField(help_text="When they entered the code.")


class ReferralPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(source="paginator.count")
    next = serializers.SerializerMethodField()
    previous = serializers.SerializerMethodField()
    results = ReferralSerializer(many=True, source="object_list")

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_next(self, page: Page) -> str | None:
        return self._page_url(page.next_page_number()) if page.has_next() else None

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_previous(self, page: Page) -> str | None:
        return self._page_url(page.previous_page_number()) if page.has_previous() else None

    def _page_url(self, number: int) -> str:
        request = self.context["request"]
        return replace_query_param(request.build_absolute_uri(), "page", number)


class ReferralsApi(APIView):
    @extend_schema(
        tags=["profile"],
        summary="Members who joined with my code, newest first",
        description=(
            f"{REFERRALS_PAGE_SIZE} per page. A page number out of range gives the last page."
        ),
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
        responses={200: ReferralPageSerializer, 401: UNAUTHORIZED},
    )
    def get(self, request: Request) -> Response:
        page = referrals_page(user=request.user, number=request.query_params.get("page"))
        return Response(ReferralPageSerializer(page, context={"request": request}).data)
