"""The profile API: profile, activation and referrals in one query; never a deactivated member."""

from collections.abc import Callable

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
INVITE_URL = "/api/v1/profile/invite/"
REFERRALS_URL = "/api/v1/profile/referrals/"


def activate(client: APIClient, code: str):
    return client.post(INVITE_URL, {"invite_code": code}, format="json")


@pytest.mark.parametrize("url", [PROFILE_URL, REFERRALS_URL])
def test_member_endpoints_without_a_token_are_401_not_authenticated(api: APIClient, url: str):
    response = api.get(url)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_invite_without_a_token_is_401(api: APIClient):
    assert_error(activate(api, "ABC234"), 401, "not_authenticated")


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer a.b.c", "Bearer \x7f"])
def test_forged_access_token_is_401_token_not_valid(api: APIClient, header: str):
    api.credentials(HTTP_AUTHORIZATION=header)
    assert_error(api.get(PROFILE_URL), 401, "token_not_valid")


def test_refresh_token_does_not_open_the_profile(api: APIClient, make_member):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(make_member())}")
    assert_error(api.get(PROFILE_URL), 401, "token_not_valid")


def test_profile_shows_the_member_before_activation(member_api: Callable, make_member):
    member = make_member()
    body = member_api(member).get(PROFILE_URL).json()
    assert body == {
        "phone": str(member.phone),
        "invite_code": member.invite_code,
        "activated_invite_code": None,
        "referrals_count": 0,
        "referrals": [],
        "date_joined": body["date_joined"],
    }
    assert body["date_joined"].startswith(str(member.date_joined.year))


def test_api_phones_stay_e164_while_pages_show_them_formatted(member_api, make_member):
    owner = make_member("+79991234567")
    invite_activate(user=make_member("+79997654321"), code=owner.invite_code)
    client = member_api(owner)

    profile = client.get(PROFILE_URL).json()
    referrals = client.get(f"{PROFILE_URL}referrals/").json()

    assert profile["phone"] == "+79991234567"
    assert profile["referrals"] == ["+79997654321"]
    assert [row["phone"] for row in referrals["results"]] == ["+79997654321"]


def test_activation_returns_the_profile_with_the_activated_code(member_api, make_member):
    friend, member = make_member(), make_member()
    response = activate(member_api(member), friend.invite_code)
    assert response.status_code == 200
    assert response.json()["activated_invite_code"] == friend.invite_code
    assert member_api(member).get(PROFILE_URL).json()["activated_invite_code"] == (
        friend.invite_code
    )


def test_invite_code_is_trimmed_and_case_insensitive(member_api, make_member):
    friend = make_member()
    response = activate(member_api(), f"  {friend.invite_code.lower()} ")
    assert response.json()["activated_invite_code"] == friend.invite_code


def test_unknown_invite_code_is_invite_not_found(member_api):
    assert_error(activate(member_api(), "ZZZZZZ"), 400, "invite_not_found", field="invite_code")


def test_own_invite_code_is_invite_own_code(member_api, make_member):
    member = make_member()
    response = activate(member_api(member), member.invite_code)
    assert_error(response, 400, "invite_own_code", field="invite_code")


def test_second_activation_is_invite_already_activated(member_api, make_member):
    member, first, second = make_member(), make_member(), make_member()
    client = member_api(member)
    activate(client, first.invite_code)
    response = activate(client, second.invite_code)
    assert_error(response, 400, "invite_already_activated", field="invite_code")
    member.refresh_from_db()
    assert member.referred_by == first


def test_code_of_someone_down_my_chain_is_invite_cycle(member_api, make_member):
    a, b, c = make_member(), make_member(), make_member()
    invite_activate(user=b, code=a.invite_code)
    invite_activate(user=c, code=b.invite_code)
    for invited in (b, c):
        response = activate(member_api(a), invited.invite_code)
        assert_error(response, 400, "invite_cycle", field="invite_code")


@pytest.mark.parametrize("code", ["", "ABC", "ABCDEFG", "ABC0O1", "\x00\x00\x00", None, 123456])
def test_malformed_invite_code_is_a_field_error(member_api, code):
    assert_error(activate(member_api(), code), 400, "invalid", field="invite_code")


def make_referrals(owner: User, count: int, make_member: Callable) -> list[User]:
    members = [make_member() for _ in range(count)]
    for member in members:
        invite_activate(user=member, code=owner.invite_code)
    return members


def test_profile_lists_the_newest_50_referrals_and_counts_all(member_api, make_member):
    owner = make_member()
    referrals = make_referrals(owner, 51, make_member)
    body = member_api(owner).get(PROFILE_URL).json()
    assert body["referrals_count"] == 51
    assert body["referrals"] == [str(m.phone) for m in reversed(referrals)][:50]


def test_referrals_are_paginated_by_50_newest_first(member_api, make_member):
    owner = make_member()
    referrals = make_referrals(owner, 51, make_member)
    client = member_api(owner)
    first = client.get(REFERRALS_URL).json()
    assert first["count"] == 51
    assert first["previous"] is None
    assert len(first["results"]) == 50
    assert first["results"][0]["phone"] == str(referrals[-1].phone)
    assert first["results"][0]["joined_at"]
    assert first["next"].endswith(f"{REFERRALS_URL}?page=2")
    second = client.get(first["next"]).json()
    assert [r["phone"] for r in second["results"]] == [str(referrals[0].phone)]
    assert second["next"] is None
    assert second["previous"].endswith("page=1")


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999999999999", "\u0661"])
def test_any_page_number_gives_a_page(member_api, page):
    response = member_api().get(REFERRALS_URL, {"page": page})
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_referrals_query_count_does_not_grow_with_their_number(member_api, make_member):
    def queries(referral_count: int) -> int:
        owner = make_member()
        make_referrals(owner, referral_count, make_member)
        client = member_api(owner)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(REFERRALS_URL).status_code == 200
            assert client.get(PROFILE_URL).status_code == 200
        return len(captured)

    assert queries(1) == queries(60)


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
