"""The signed-in member over JSON: profile, a friend's invite code, referrals."""

from django.core.paginator import Page
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
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
from core.http import client_ip
from profiles import api_schema as schema
from profiles.errors import DeleteNotConfirmed
from profiles.forms import InviteForm
from profiles.member_data import member_data_collect
from profiles.models import User
from profiles.selectors import REFERRALS_PAGE_SIZE, ProfileSummary, profile_get, referrals_page
from profiles.services import invite_activate, member_delete

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


def _member(token_user: object) -> User:
    """The token's member as a row (deletion and export need more than its id)."""
    member = User.objects.filter(pk=token_user.pk, is_active=True).first()  # type: ignore[attr-defined]
    if member is None:
        raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
    return member


class DeleteSerializer(serializers.Serializer):
    confirm = serializers.CharField(
        max_length=64, help_text="The member's own phone number, E.164 (+79991234567)."
    )


class ProfileApi(APIView):
    def get_authenticators(self) -> list[BaseAuthentication]:
        # The token names the member; the profile's one query checks they are still
        # active, so the usual lookup of the member would be a second query. The
        # schema documents the API's one bearer scheme: the token is the same.
        if getattr(self, "swagger_fake_view", False):
            return super().get_authenticators()
        return [JWTStatelessUserAuthentication()]

    @extend_schema(
        responses={200: ProfileSerializer, **schema.PROFILE_ERRORS},
        **schema.PROFILE,
    )
    def get(self, request: Request) -> Response:
        return Response(ProfileSerializer.represent(_profile(request.user)))

    @extend_schema(
        request=DeleteSerializer,
        responses={204: None, **schema.PROFILE_DELETE_ERRORS},
        **schema.PROFILE_DELETE,
    )
    def delete(self, request: Request) -> Response:
        serializer = DeleteSerializer(data=request.data)
        if not serializer.is_valid():
            raise DeleteNotConfirmed
        member_delete(
            member=_member(request.user), confirm=serializer.validated_data["confirm"], via="api"
        )
        return Response(status=204)


class InviteSerializer(serializers.Serializer):
    invite_code = WebFormField(
        form=InviteForm,
        max_length=64,
        help_text="A friend's 6-character code; case and surrounding spaces do not matter.",
    )


class InviteActivateApi(APIView):
    @extend_schema(
        request=InviteSerializer,
        responses={200: ProfileSerializer, **schema.INVITE_ACTIVATE_ERRORS},
        **schema.INVITE_ACTIVATE,
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
        responses={200: ReferralPageSerializer, **schema.REFERRALS_ERRORS},
        **schema.REFERRALS,
    )
    def get(self, request: Request) -> Response:
        page = referrals_page(user=request.user, number=request.query_params.get("page"))
        return Response(ReferralPageSerializer(page, context={"request": request}).data)


class _SignInCodeSerializer(serializers.Serializer):
    requested_at = serializers.DateTimeField()
    ip_address = serializers.IPAddressField()
    state = serializers.CharField(help_text="pending, used, replaced, locked or failed.")
    delivery = serializers.CharField()
    used_at = serializers.DateTimeField(allow_null=True)


class _IpAddressesSerializer(serializers.Serializer):
    first_sign_in = serializers.IPAddressField(allow_null=True)
    invite_activation = serializers.IPAddressField(allow_null=True)


class _RewardTotalsSerializer(serializers.Serializer):
    unit = serializers.CharField()
    grants = serializers.IntegerField(help_text="How many grants in this unit.")
    pending = serializers.IntegerField()
    approved = serializers.IntegerField()
    fulfilled = serializers.IntegerField()
    voided = serializers.IntegerField()


class _RewardGrantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="referrer, friend or milestone.")
    amount = serializers.IntegerField()
    unit = serializers.CharField()
    state = serializers.CharField(help_text="pending, approved, fulfilled or voided.")
    on_review = serializers.BooleanField(help_text="An open fraud flag holds it.")
    referral = serializers.CharField(
        allow_null=True, help_text="As the referrals list shows it (REFERRAL_PHONES)."
    )
    milestone = serializers.IntegerField(allow_null=True)
    available_at = serializers.DateTimeField()
    reason = serializers.CharField(allow_null=True, help_text="Why it was voided.")
    created_at = serializers.DateTimeField()
    approved_at = serializers.DateTimeField(allow_null=True)
    fulfilled_at = serializers.DateTimeField(allow_null=True)
    voided_at = serializers.DateTimeField(allow_null=True)


class _RewardsSectionSerializer(serializers.Serializer):
    totals = _RewardTotalsSerializer(many=True, help_text="Sums of the ledger per unit.")
    grants = _RewardGrantSerializer(many=True, help_text="Every grant, newest first.")


class ExportSerializer(serializers.Serializer):
    """The export's shape, for the schema (the document is built by profiles.member_data)."""

    exported_at = serializers.DateTimeField()
    phone = serializers.CharField()
    date_joined = serializers.DateTimeField()
    invite_code = serializers.CharField()
    activated_invite_code = serializers.CharField(allow_null=True)
    activated_at = serializers.DateTimeField(allow_null=True)
    referrals = ReferralSerializer(many=True)
    ip_addresses = _IpAddressesSerializer(help_text="Addresses kept on the member's row.")
    sign_in_codes = _SignInCodeSerializer(
        many=True, help_text="Sign-in codes still kept (a day at most); never the codes."
    )
    # The rewards app's section (rewards/member_data.py), described here for the schema.
    rewards = _RewardsSectionSerializer(help_text="The member's rewards ledger and totals.")


class ExportApi(APIView):
    @extend_schema(responses={200: ExportSerializer, **schema.EXPORT_ERRORS}, **schema.EXPORT)
    def get(self, request: Request) -> Response:
        return Response(member_data_collect(member=_member(request.user)))
