"""The operator's API: API keys (hashed, revocable), the per-key limit, a member read."""

import pytest
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from profiles.services import invite_activate
from tests.api.conftest import assert_error
from tests.conftest import run_in_parallel

MEMBERS_URL = "/api/v1/operator/members/"


@pytest.fixture
def key() -> str:
    _api_key, key = APIKey.objects.create_key(name="crm")
    return key


def operator(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.mark.django_db
def test_a_member_is_read_by_any_spelling_of_their_phone(key, make_member):
    inviter = make_member("+79991230001")
    member = make_member("+79991230002")
    invite_activate(user=member, code=inviter.invite_code)

    answer = operator(key).get(MEMBERS_URL, {"phone": "8 (999) 123-00-02"})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["phone"] == "+79991230002"
    assert body["invited_by"] == "+79991230001"
    assert body["invite_code"] == member.invite_code
    assert body["active"] is True
    assert operator(key).get(MEMBERS_URL, {"phone": "+79991230001"}).json()["referrals_count"] == 1


@pytest.mark.django_db
def test_an_unknown_phone_is_member_not_found_and_a_bad_one_is_invalid(key):
    assert_error(operator(key).get(MEMBERS_URL, {"phone": "+79991230099"}), 404, "member_not_found")
    assert_error(
        operator(key).get(MEMBERS_URL, {"phone": "call me"}), 400, "invalid", field="phone"
    )
    assert_error(operator(key).get(MEMBERS_URL), 400, "invalid", field="phone")


@pytest.mark.django_db
def test_no_wrong_or_revoked_key_gets_in(key, make_member):
    make_member("+79991230003")
    query = {"phone": "+79991230003"}
    answer = APIClient().get(MEMBERS_URL, query)
    assert_error(answer, 401, "api_key_invalid")
    assert answer["WWW-Authenticate"] == "Api-Key"
    assert_error(operator(key[:-1] + "x").get(MEMBERS_URL, query), 401, "api_key_invalid")
    assert_error(operator("nodot").get(MEMBERS_URL, query), 401, "api_key_invalid")
    # A member's JWT is not an operator key.
    jwt = APIClient()
    jwt.credentials(HTTP_AUTHORIZATION="Bearer abc.def.ghi")
    assert_error(jwt.get(MEMBERS_URL, query), 401, "api_key_invalid")

    APIKey.objects.update(revoked=True)
    assert_error(operator(key).get(MEMBERS_URL, query), 401, "api_key_invalid")


@pytest.mark.django_db
def test_keys_are_stored_only_as_hashes(key):
    stored = APIKey.objects.get()
    secret = key.split(".", 1)[1]
    assert secret not in stored.hashed_key and secret not in stored.id


@pytest.mark.django_db(transaction=True)
def test_the_limit_per_key_is_exact_under_parallel_requests(key, settings, make_member):
    settings.OPERATOR_API_RATE = 5
    make_member("+79991230004")
    other_key = APIKey.objects.create_key(name="billing")[1]

    def ask(with_key: str = key) -> int:
        return operator(with_key).get(MEMBERS_URL, {"phone": "+79991230004"}).status_code

    statuses = run_in_parallel([ask] * 12)
    assert sorted(statuses) == [200] * 5 + [429] * 7
    over = operator(key).get(MEMBERS_URL, {"phone": "+79991230004"})
    assert_error(over, 429, "throttled")
    assert 1 <= int(over["Retry-After"]) <= 60
    # Another key has a limit of its own.
    assert ask(other_key) == 200
