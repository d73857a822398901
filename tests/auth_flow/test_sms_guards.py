"""Toll-fraud guards: number types, regions and hourly budgets, judged before any
provider is called."""

import io
import logging
import re
from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from auth_flow.models import Challenge, SendBudget
from auth_flow.sms.breaker import breakers_reset
from tests.api.conftest import assert_error
from tests.fakes.sms_servers import FakeSmsServer

pytestmark = pytest.mark.django_db

CODE_URL = "/api/v1/auth/code/"


@pytest.fixture
def smsru(settings) -> Iterator[FakeSmsServer]:
    breakers_reset()
    with FakeSmsServer(kind="smsru") as fake:
        settings.SMS_BACKEND = "smsru"
        settings.SMSRU_API_ID = "test-api-id"
        settings.SMSRU_BASE_URL = fake.url
        yield fake
    breakers_reset()


def ask(phone: str, ip: str = "198.51.100.9"):  # noqa: ANN201
    return APIClient(REMOTE_ADDR=ip).post(CODE_URL, {"phone": phone}, format="json")


@pytest.mark.parametrize(
    ("phone", "kind"),
    [
        ("+78091234567", "Russian premium-rate (+7 809)"),
        ("+449012345678", "UK premium-rate (+44 90)"),
        ("+18005550100", "US toll-free (+1 800)"),
        ("+74951234567", "Moscow landline (+7 495)"),
        ("+881612345678", "Globalstar satellite (+881), which phonenumbers calls mobile"),
        ("+4930123456", "Berlin landline"),
    ],
)
def test_numbers_that_cost_too_much_are_refused_before_any_provider(smsru, phone, kind):
    assert_error(ask(phone), 400, "phone_not_allowed", field="phone")
    assert smsru.received == [], kind
    assert not Challenge.objects.filter(phone=phone).exists()


def test_a_mobile_outside_the_allowed_regions_is_refused(smsru, settings):
    settings.OTP_ALLOWED_REGIONS = ["RU", "KZ"]
    assert_error(ask("+375291234567"), 400, "phone_not_allowed", field="phone")
    assert smsru.received == []
    assert ask("+77011234567").status_code == 202  # Kazakhstan, allowed
    assert len(smsru.received) == 1


@pytest.mark.parametrize("phone", ["+79407123456", "+79409123456", "+78402212345", "+79981234567"])
def test_ranges_billed_as_international_inside_plus_7_are_refused(smsru, settings, phone):
    # Abkhazia (+7 940 mobile, +7 840 fixed) and South Ossetia (+7 998) are "RU" to
    # phonenumbers, so the region list alone lets them through.
    settings.OTP_ALLOWED_REGIONS = ["RU"]
    assert_error(ask(phone), 400, "phone_not_allowed", field="phone")
    assert smsru.received == []
    assert not Challenge.objects.filter(phone=phone).exists()


def test_blocked_prefixes_are_a_setting(smsru, settings):
    settings.OTP_BLOCKED_PREFIXES = ["+7 999 12"]
    assert_error(ask("+79991234567"), 400, "phone_not_allowed", field="phone")
    assert ask("+79991334567").status_code == 202
    settings.OTP_BLOCKED_PREFIXES = []
    assert ask("+79407123456", ip="198.51.100.11").status_code == 202


def test_a_blocked_prefix_that_is_not_a_prefix_stops_the_start(settings):
    from auth_flow.checks import sms_configuration_errors

    settings.OTP_BLOCKED_PREFIXES = ["+7940", "Abkhazia"]
    assert any("OTP_BLOCKED_PREFIXES" in error for error in sms_configuration_errors())


def test_the_test_numbers_are_mobile_and_go_through(smsru, new_phone):
    assert ask(new_phone()).status_code == 202
    assert ask("+12025550143").status_code == 202  # US numbers: fixed line or mobile


def test_number_types_are_a_setting(smsru, settings):
    settings.OTP_NUMBER_TYPES = ["MOBILE", "FIXED_LINE"]
    assert ask("+74951234567").status_code == 202


def test_the_demo_backend_applies_the_same_guards(settings):
    settings.SMS_BACKEND = "demo"
    settings.DEMO_MODE = True
    assert_error(ask("+78091234567"), 400, "phone_not_allowed", field="phone")


def test_web_form_refuses_a_premium_number_on_the_phone_field(client, smsru):
    response = client.post("/auth/phone/", {"phone": "+7 809 123-45-67"})
    assert response.status_code == 422
    assert "cannot send codes to this number" in response.content.decode()
    assert smsru.received == []


# ---------------------------------------------------------------- budgets


def budget_of(key: str) -> tuple[int, int]:
    """This hour's (used, refused) of a budget: `global` adds up its shards."""
    from django.utils import timezone

    from auth_flow.sms.budgets import budgets_used

    return budgets_used(moment=timezone.now()).get(key, (0, 0))


def test_global_budget_answers_503_with_the_end_of_the_hour(smsru, settings, new_phone, caplog):
    settings.OTP_GLOBAL_HOURLY = 3
    settings.OTP_DEVICE_HOURLY = 0  # strangers may use the whole budget
    for index in range(3):
        assert ask(new_phone(), ip=f"198.51.100.{index + 20}").status_code == 202

    with caplog.at_level(logging.ERROR):
        responses = [ask(new_phone(), ip=f"198.51.100.{index + 30}") for index in range(3)]

    for response in responses:
        assert_error(response, 503, "sms_budget_exhausted")
        assert 1 <= int(response["Retry-After"]) <= 3601
    assert len(smsru.received) == 3
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    # One line per window for an alert, not one per request.
    assert [r.getMessage().split(" limit=")[0] for r in errors] == [
        "sms budget exhausted budget=global"
    ]
    assert budget_of("global") == (3, 3)


def test_region_budget_is_per_country_calling_code(smsru, settings, new_phone):
    settings.OTP_REGION_HOURLY = 2
    assert ask(new_phone(), ip="198.51.100.40").status_code == 202
    assert ask(new_phone(), ip="198.51.100.41").status_code == 202
    assert_error(ask(new_phone(), ip="198.51.100.42"), 503, "sms_budget_exhausted")
    assert ask("+12025550143", ip="198.51.100.43").status_code == 202  # +1 has its own
    assert SendBudget.objects.get(key="cc:7").used == 2


def ask_as_device(phone: str, token: str, ip: str = "198.51.100.60"):  # noqa: ANN201
    body = {"phone": phone, "device_token": token}
    return APIClient(REMOTE_ADDR=ip).post(CODE_URL, body, format="json")


def test_a_prefix_budget_stops_one_range_and_leaves_the_rest_of_the_country(smsru, settings):
    settings.OTP_PREFIX_HOURLY = 2
    pumped = [f"+7999550{index:04d}" for index in range(3)]
    assert ask(pumped[0], ip="198.51.100.61").status_code == 202
    assert ask(pumped[1], ip="198.51.100.62").status_code == 202
    assert_error(ask(pumped[2], ip="198.51.100.63"), 503, "sms_budget_exhausted")
    # Another range of the same country code still gets its codes.
    assert ask("+79996601234", ip="198.51.100.64").status_code == 202
    assert SendBudget.objects.get(key="px:799955").used == 2
    assert SendBudget.objects.get(key="cc:7").used == 3


def test_strangers_who_spent_the_country_and_the_range_leave_device_holders_their_codes(
    smsru, settings, make_member
):
    from auth_flow.devices import device_token_issue

    settings.OTP_REGION_HOURLY = 3
    settings.OTP_PREFIX_HOURLY = 2
    member = make_member(phone="+79995509999")
    stranger_phones = [f"+7999550{index:04d}" for index in range(2)] + ["+79996600000"]
    for index, phone in enumerate(stranger_phones):
        assert ask(phone, ip=f"198.51.100.{70 + index}").status_code == 202
    # The member's number, asked by a stranger, answers as an unknown one of the range.
    as_stranger = ask(str(member.phone), ip="198.51.100.75")
    unknown = ask("+79995508888", ip="198.51.100.76")
    assert_error(as_stranger, 503, "sms_budget_exhausted")
    assert_error(unknown, 503, "sms_budget_exhausted")
    assert as_stranger.json() == unknown.json()
    # The member's own app, with its device token, still gets its code.
    token = device_token_issue(phone=str(member.phone))
    assert ask_as_device(str(member.phone), token).status_code == 202
    # A forged or another number's token is a stranger's.
    assert_error(ask_as_device("+79995507777", token), 503, "sms_budget_exhausted")


def test_strangers_cannot_reach_the_device_holders_part_of_the_global_budget(
    smsru, settings, new_phone
):
    from auth_flow.devices import device_token_issue

    settings.OTP_GLOBAL_HOURLY = 3
    settings.OTP_DEVICE_HOURLY = 1
    assert ask(new_phone(), ip="198.51.100.80").status_code == 202
    assert ask(new_phone(), ip="198.51.100.81").status_code == 202
    assert_error(ask(new_phone(), ip="198.51.100.82"), 503, "sms_budget_exhausted")
    member = new_phone()
    assert ask_as_device(member, device_token_issue(phone=member)).status_code == 202
    # Everyone together stays within the global budget: the worst hourly bill.
    other = new_phone()
    assert_error(ask_as_device(other, device_token_issue(phone=other)), 503, "sms_budget_exhausted")
    assert budget_of("global")[0] == 3
    assert len(smsru.received) == 3


def test_a_failed_send_gives_its_budget_back(smsru, settings, new_phone):
    settings.OTP_GLOBAL_HOURLY = 1
    settings.OTP_DEVICE_HOURLY = 0  # strangers may use the whole budget
    smsru.default = "http500"
    assert_error(ask(new_phone(), ip="198.51.100.50"), 503, "sms_unavailable")
    smsru.default = "ok"
    assert ask(new_phone(), ip="198.51.100.51").status_code == 202
    assert budget_of("global")[0] == 1


def test_a_throttled_request_takes_no_budget(smsru, settings, new_phone):
    phone = new_phone()
    assert ask(phone).status_code == 202
    assert_error(ask(phone), 429, "resend_cooldown")
    assert budget_of("global")[0] == 1


def test_no_log_line_shows_the_code(smsru, new_phone, caplog):
    caplog.set_level(logging.DEBUG)
    phone = new_phone()
    assert ask(phone).status_code == 202
    text = smsru.received[0].form["msg"]
    code = re.search(r"\d{4}", text).group()
    assert not [r for r in caplog.records if re.search(rf"\b{code}\b", r.getMessage())]
    assert not [r for r in caplog.records if text in r.getMessage()]


def test_purge_deletes_budget_windows_older_than_a_day(smsru, new_phone):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    assert ask(new_phone()).status_code == 202
    two_days_ago = timezone.now() - timedelta(days=2)
    SendBudget.objects.create(key="global:0", window_start=two_days_ago, used=5)
    call_command("purge_challenges", stdout=io.StringIO())
    assert (
        SendBudget.objects.filter(window_start__lt=timezone.now() - timedelta(days=1)).count() == 0
    )
    assert budget_of("global")[0] == 1  # this hour's rows stay


def test_the_global_budget_is_spread_over_shards_that_add_up_to_its_limits(settings):
    from auth_flow.sms.budgets import shard_keys, shard_limits

    settings.OTP_GLOBAL_SHARDS = 4
    assert shard_keys() == ["global:0", "global:1", "global:2", "global:3"]
    assert shard_limits(10) == [3, 3, 2, 2]
    assert shard_limits(2) == [1, 1, 0, 0]
    assert sum(shard_limits(1000)) == 1000


def test_every_shard_is_tried_before_the_global_budget_is_refused(settings):
    """Wherever a take starts, a spent shard passes it to the next: exactly the limit."""
    from django.utils import timezone

    from auth_flow.errors import SmsBudgetExhausted
    from auth_flow.sms.budgets import budget_take

    settings.OTP_GLOBAL_SHARDS = 4
    settings.OTP_GLOBAL_HOURLY = 6
    settings.OTP_DEVICE_HOURLY = 0
    now = timezone.now()
    for _ in range(6):
        budget_take(phone="+79990000000", country_code=7, device=True, now=now)
    with pytest.raises(SmsBudgetExhausted) as refused:
        budget_take(phone="+79990000000", country_code=7, device=True, now=now)
    assert refused.value.key == "global"
    rows = dict(SendBudget.objects.filter(key__startswith="global:").values_list("key", "used"))
    assert rows == {"global:0": 2, "global:1": 2, "global:2": 1, "global:3": 1}
    assert budget_of("global") == (6, 1)


def test_a_refused_take_leaves_every_budget_as_it_was(settings):
    from django.utils import timezone

    from auth_flow.errors import SmsBudgetExhausted
    from auth_flow.sms.budgets import budget_take

    settings.OTP_PREFIX_HOURLY = 1
    now = timezone.now()
    budget_take(phone="+79995500001", country_code=7, device=False, now=now)
    with pytest.raises(SmsBudgetExhausted) as refused:
        budget_take(phone="+79995500002", country_code=7, device=False, now=now)
    assert refused.value.key == "px:799955"
    assert budget_of("global") == (1, 0)
    assert budget_of("cc:7") == (1, 0)
    assert budget_of("px:799955") == (1, 1)


def test_a_global_limit_lowered_within_the_hour_applies_at_once(settings):
    from django.utils import timezone

    from auth_flow.errors import SmsBudgetExhausted
    from auth_flow.sms.budgets import budget_take

    now = timezone.now()
    for _ in range(3):  # under the default limit: spread over shards at random
        budget_take(phone="+79990000000", country_code=7, device=True, now=now)
    settings.OTP_GLOBAL_HOURLY = 4
    budget_take(phone="+79990000000", country_code=7, device=True, now=now)
    with pytest.raises(SmsBudgetExhausted):
        budget_take(phone="+79990000000", country_code=7, device=True, now=now)
    assert budget_of("global") == (4, 1)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "values",
    [
        ["global:0", "global:1"],
        ["cc:7", "px:799955"],
        [],
        ["a,b"],
        ["NULL"],
        ["a b"],
        ['a"b'],
        [""],
    ],
)
def test_budget_arrays_reach_the_database_as_they_are(values):
    """The take's arrays go as PostgreSQL's text form only when nothing in them needs
    quoting (cheaper to send); either way the database reads the same array."""
    from django.db import connection

    from auth_flow.sms.budgets import _array_literal

    sent = _array_literal(values)
    plain = all(v and v.replace(":", "").isalnum() and v != "NULL" for v in values)
    assert isinstance(sent, str) == plain
    with connection.client_bound_cursor() as cursor:
        cursor.execute("SELECT %s::text[], %s::integer[]", [sent, _array_literal([100, 20])])
        assert cursor.fetchone() == (values, [100, 20])
