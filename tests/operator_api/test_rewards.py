"""The operator's rewards API: the approved rewards to pay out, and an idempotent fulfil."""

import pytest
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from events.models import Event
from profiles.models import User
from rewards.models import Grant
from rewards.services import grant_void, grants_approve_due
from tests.api.conftest import assert_error
from tests.conftest import run_in_parallel
from tests.rewards.conftest import activate, judged, program  # noqa: F401 - fixtures

REWARDS_URL = "/api/v1/operator/rewards/"


@pytest.fixture
def operator() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {APIKey.objects.create_key(name='crm')[1]}")
    return client


@pytest.fixture
def approved(program, activate, judged, make_member) -> list[Grant]:  # noqa: F811
    program(referrer_amount=100, friend_amount=50)
    inviter, friend = make_member("+79991240001"), make_member("+79991240002")
    activate(friend, inviter)
    judged()
    grants_approve_due()
    return list(Grant.objects.order_by("pk"))


@pytest.mark.django_db
def test_the_approved_rewards_are_listed_with_phones(operator, approved):
    answer = operator.get(REWARDS_URL, {"state": "approved"})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["count"] == 2
    by_kind = {row["kind"]: row for row in body["results"]}
    assert by_kind["referrer"]["member"] == "+79991240001"
    assert by_kind["referrer"]["referral"] == "+79991240002"
    assert (by_kind["referrer"]["amount"], by_kind["referrer"]["unit"]) == (100, "points")
    assert by_kind["friend"]["member"] == "+79991240002"
    assert operator.get(REWARDS_URL, {"state": "fulfilled"}).json()["count"] == 0
    assert_error(operator.get(REWARDS_URL, {"state": "paid"}), 400, "invalid", field="state")
    assert_error(APIClient().get(REWARDS_URL), 401, "api_key_invalid")


@pytest.mark.django_db
def test_fulfil_twice_fulfils_once(operator, approved):
    grant = approved[0]
    first = operator.post(f"{REWARDS_URL}{grant.pk}/fulfil/")
    assert first.status_code == 200, first.json()
    assert first.json()["state"] == "fulfilled"
    again = operator.post(f"{REWARDS_URL}{grant.pk}/fulfil/")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert Event.objects.filter(type="reward.fulfilled").count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_fulfils_fulfil_once(operator, approved):
    url = f"{REWARDS_URL}{approved[0].pk}/fulfil/"
    key = operator._credentials["HTTP_AUTHORIZATION"]

    def fulfil() -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=key)
        return client.post(url).status_code

    assert run_in_parallel([fulfil] * 8) == [200] * 8
    assert Event.objects.filter(type="reward.fulfilled").count() == 1


@pytest.mark.django_db
def test_a_voided_or_pending_reward_is_not_fulfilled(operator, approved, program, activate):  # noqa: F811
    voided = grant_void(grant=approved[0])
    assert_error(operator.post(f"{REWARDS_URL}{voided.pk}/fulfil/"), 409, "reward_voided")
    assert Grant.objects.get(pk=voided.pk).state == "voided"

    program(hold_days=14)
    inviter = Grant.objects.get(kind="referrer").member
    newcomer = User.objects.create_user("+79991240003")
    activate(newcomer, inviter)
    pending = Grant.objects.get(referral=newcomer, kind="referrer")
    assert_error(operator.post(f"{REWARDS_URL}{pending.pk}/fulfil/"), 409, "reward_not_approved")
    assert_error(operator.post(f"{REWARDS_URL}999999/fulfil/"), 404, "reward_not_found")


@pytest.mark.django_db
def test_a_later_page_skips_over_ids_alone(operator, make_member):
    # A page far into 200,000 grants must not build (join, flag-check) every row it skips.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from operator_api.api import REWARDS_PAGE_SIZE
    from tests.staff_console.test_rewards import ledger_of

    grants = ledger_of(make_member(), REWARDS_PAGE_SIZE + 3)
    with CaptureQueriesContext(connection) as queries:
        body = operator.get(REWARDS_URL, {"state": "approved", "page": 2}).json()
    assert body["count"] == REWARDS_PAGE_SIZE + 3
    assert [row["id"] for row in body["results"]] == [g.pk for g in reversed(grants[:3])]
    (skipping,) = [q["sql"] for q in queries if "OFFSET" in q["sql"]]
    assert "JOIN" not in skipping and "fraud_fraudflag" not in skipping


@pytest.mark.django_db
def test_paging_past_the_last_page_ends_with_no_results(operator, make_member):
    # A payout script walks pages until one comes back empty: past the end it must get
    # none (before, the last page again, forever), and `previous` leads back to it.
    from operator_api.api import REWARDS_PAGE_SIZE
    from tests.staff_console.test_rewards import ledger_of

    ledger_of(make_member(), REWARDS_PAGE_SIZE + 3)
    last = operator.get(REWARDS_URL, {"state": "approved", "page": 2}).json()
    assert len(last["results"]) == 3 and last["next"] is None
    for number in (3, 40):
        past = operator.get(REWARDS_URL, {"state": "approved", "page": number})
        assert past.status_code == 200
        body = past.json()
        assert body["results"] == [] and body["next"] is None
        assert body["count"] == REWARDS_PAGE_SIZE + 3
        assert "page=2" in body["previous"]
    nothing = operator.get(REWARDS_URL, {"state": "fulfilled", "page": 2}).json()
    assert (nothing["count"], nothing["results"], nothing["next"]) == (0, [], None)
    assert "page=1" in nothing["previous"]  # page 1 always exists, empty or not
