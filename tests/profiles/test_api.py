"""The API profile: one query, and never a deactivated member's."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from profiles.models import User
from profiles.services import invite_activate
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db

PROFILE_URL = "/api/v1/profile/"


@pytest.fixture
def member_api():
    def sign_in(member: User) -> APIClient:
        client = APIClient()
        client.credentials(
            HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(member).access_token}"
        )
        return client

    return sign_in


@pytest.mark.postgres
@pytest.mark.parametrize("referrals", [0, 3])
def test_the_api_profile_is_one_query(member_api, make_member, referrals):
    owner = make_member()
    invite_activate(user=owner, code=make_member().invite_code)
    for _ in range(referrals):
        invite_activate(user=make_member(), code=owner.invite_code)
    client = member_api(owner)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(PROFILE_URL).json()
    assert len(queries) == 1
    assert body["referrals_count"] == referrals == len(body["referrals"])
    assert body["activated_invite_code"] is not None


def test_the_profile_shows_newest_referrals_first_with_the_entered_code(member_api, make_member):
    owner, inviter = make_member(), make_member()
    invite_activate(user=owner, code=inviter.invite_code)
    joined = [make_member() for _ in range(3)]
    for member in joined:
        invite_activate(user=member, code=owner.invite_code)
    body = member_api(owner).get(PROFILE_URL).json()
    assert body["phone"] == str(owner.phone) and body["invite_code"] == owner.invite_code
    assert body["activated_invite_code"] == inviter.invite_code
    assert body["referrals"] == [str(m.phone) for m in reversed(joined)]
    assert body["referrals_count"] == 3


def test_a_deactivated_members_token_gets_no_profile(member_api, make_member):
    member = make_member()
    client = member_api(member)
    assert client.get(PROFILE_URL).status_code == 200
    User.objects.filter(pk=member.pk).update(is_active=False)
    assert_error(client.get(PROFILE_URL), 401, "user_inactive")


def test_a_deleted_members_token_gets_no_profile(member_api, make_member):
    member = make_member()
    client = member_api(member)
    member.delete()
    assert_error(client.get(PROFILE_URL), 401, "user_inactive")


def test_the_fast_representation_equals_the_serializers(make_member):
    from profiles.api import ProfileSerializer
    from profiles.selectors import profile_get

    owner, inviter = make_member(), make_member()
    invite_activate(user=owner, code=inviter.invite_code)
    for _ in range(3):
        invite_activate(user=make_member(), code=owner.invite_code)
    for member in (owner, inviter, make_member()):
        summary = profile_get(user=member)
        fast = ProfileSerializer.represent(summary)
        assert fast == ProfileSerializer(summary).data
        assert list(fast) == list(ProfileSerializer(summary).data)
