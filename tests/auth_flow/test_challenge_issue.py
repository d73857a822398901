"""challenge_issue: the code sent, its limits, and who may draw on which budget."""

import contextlib

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from auth_flow.errors import (
    ChallengeThrottled,
    CodeAttemptsExhausted,
    CodeInvalid,
    CodeReplaced,
    SmsBudgetExhausted,
    SmsUnavailable,
)
from auth_flow.models import Challenge
from auth_flow.services import challenge_issue, challenge_token_hash, code_hash
from tests.auth_flow.helpers import IP, fill_the_phones_day, issue, verify, wrong

pytestmark = pytest.mark.django_db


def test_code_is_four_digits_and_sent_by_sms(new_phone, outbox):
    phone = new_phone()
    issued = challenge_issue(phone=phone, ip=IP)
    assert len(outbox) == 1
    assert outbox[0].phone == phone
    assert outbox[0].code.isdigit() and len(outbox[0].code) == 4
    assert outbox[0].code in outbox[0].text
    assert issued.expires_in == settings.OTP_TTL
    assert issued.resend_in == settings.OTP_RESEND_COOLDOWN


def test_database_never_holds_the_code_in_plain_text(new_phone, outbox):
    phone = new_phone()
    code, token = issue(phone, outbox)
    challenge = Challenge.objects.get(phone=phone)
    row = Challenge.objects.filter(pk=challenge.pk).values().get()
    assert all(code not in str(value) for key, value in row.items() if key != "phone")
    assert all(token not in str(value) for value in row.values())
    assert len(challenge.code_hash) == 64 and len(challenge.token_hash) == 64


def test_equal_codes_for_two_phones_hash_differently(new_phone, settings):
    assert code_hash(phone=new_phone(), code="1234") != code_hash(phone=new_phone(), code="1234")


def test_new_code_voids_the_same_requesters_older_one(new_phone, outbox, age_challenges):
    phone = new_phone()
    old_code, old_token = issue(phone, outbox)
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    new_code, new_token = issue(phone, outbox, previous=old_token)
    with pytest.raises(CodeReplaced):
        verify(phone, old_code, old_token)
    assert Challenge.objects.filter(phone=phone, state=Challenge.State.REPLACED).count() == 1
    assert verify(phone, new_code, new_token).user


@pytest.mark.parametrize("requester", ["previous", "device_token"])
def test_a_resend_that_fails_keeps_the_code_already_on_the_phone(
    new_phone, outbox, age_challenges, settings, requester
):
    phone = new_phone()
    device_token = verify(phone, *issue(phone, outbox)).device_token
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    old_code, old_token = issue(phone, outbox, device_token=device_token)
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    settings.SMS_BACKEND = "tests.auth_flow.helpers.DownBackend"
    again = {"previous": old_token} if requester == "previous" else {"device_token": device_token}

    with pytest.raises(SmsUnavailable):
        challenge_issue(phone=phone, ip=IP, **again)

    assert verify(phone, old_code, old_token).user


def test_a_resend_refused_for_the_sms_budget_keeps_the_code_already_on_the_phone(
    new_phone, outbox, age_challenges, settings
):
    phone = new_phone()
    old_code, old_token = issue(phone, outbox)
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    settings.OTP_GLOBAL_HOURLY = 1
    settings.OTP_DEVICE_HOURLY = 0  # strangers may use the whole budget

    with pytest.raises(SmsBudgetExhausted):
        challenge_issue(phone=phone, ip=IP, previous=old_token)

    assert verify(phone, old_code, old_token).user


def test_a_code_used_before_its_replacement_is_sent_stays_used(
    new_phone, outbox, age_challenges, settings
):
    phone = new_phone()
    old_code, old_token = issue(phone, outbox)
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    new_code, new_token = issue(phone, outbox, previous=old_token)
    # Signed in with the old code while the new one was still on its way: voiding
    # the older codes after the send leaves a used one as it is.
    assert (
        Challenge.objects.get(token_hash=challenge_token_hash(old_token)).state
        == Challenge.State.REPLACED
    )
    Challenge.objects.filter(token_hash=challenge_token_hash(old_token)).update(
        state=Challenge.State.USED, used_at=timezone.now()
    )
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    issue(phone, outbox, previous=old_token)
    assert (
        Challenge.objects.get(token_hash=challenge_token_hash(old_token)).state
        == Challenge.State.USED
    )


def test_resend_waits_for_the_cooldown(new_phone, outbox, age_challenges):
    phone = new_phone()
    issue(phone, outbox)
    with pytest.raises(ChallengeThrottled) as limited:
        challenge_issue(phone=phone, ip=IP)
    assert limited.value.code == "resend_cooldown"
    assert limited.value.status == 429
    assert 55 <= limited.value.retry_after <= settings.OTP_RESEND_COOLDOWN
    assert "You can ask for a new one in 1 minute" in limited.value.message
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    issue(phone, outbox)
    assert len(outbox) == 2


def test_phone_gets_at_most_five_codes_an_hour(new_phone, outbox, age_challenges):
    phone = new_phone()
    for _ in range(settings.OTP_PHONE_HOURLY):
        issue(phone, outbox)
        age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    with pytest.raises(ChallengeThrottled) as limited:
        challenge_issue(phone=phone, ip=IP)
    assert limited.value.code == "phone_hourly_limit"
    # The oldest of the five was sent 5 cooldowns ago; it leaves the window first.
    expected = 3600 - settings.OTP_PHONE_HOURLY * settings.OTP_RESEND_COOLDOWN
    assert abs(limited.value.retry_after - expected) <= 2
    assert "minute" in limited.value.message


def test_phone_gets_at_most_ten_codes_a_day(new_phone, outbox, age_challenges):
    phone = new_phone()
    for _ in range(settings.OTP_PHONE_DAILY):
        issue(phone, outbox)
        age_challenges(phone, 3600 / settings.OTP_PHONE_HOURLY * 1.01)
    with pytest.raises(ChallengeThrottled) as limited:
        challenge_issue(phone=phone, ip=IP)
    assert limited.value.code == "phone_daily_limit"
    assert "hour" in limited.value.message
    assert len(outbox) == settings.OTP_PHONE_DAILY


def test_ip_limit_is_checked_before_any_phone_rule(new_phone, outbox, settings):
    """Over its IP limit, a client cannot tell a phone in cooldown from any other."""
    settings.OTP_IP_HOURLY = 2
    busy = new_phone()
    issue(busy, outbox)
    issue(new_phone(), outbox)
    with pytest.raises(ChallengeThrottled) as limited:
        challenge_issue(phone=busy, ip=IP)
    assert limited.value.code == "ip_hourly_limit"


# The test numbers are consecutive (one range): this is about the IP's limit, not the range's.
@override_settings(OTP_PREFIX_HOURLY=1000)
def test_one_ip_gets_at_most_thirty_codes_an_hour(new_phone, outbox):
    for _ in range(settings.OTP_IP_HOURLY):
        issue(new_phone(), outbox)
    with pytest.raises(ChallengeThrottled) as limited:
        challenge_issue(phone=new_phone(), ip=IP)
    assert limited.value.code == "ip_hourly_limit"
    issue(new_phone(), outbox, ip="198.51.100.1")
    assert len(outbox) == settings.OTP_IP_HOURLY + 1


def test_limited_request_sends_nothing_and_records_nothing(new_phone, outbox):
    phone = new_phone()
    issue(phone, outbox)
    with pytest.raises(ChallengeThrottled):
        challenge_issue(phone=phone, ip=IP)
    assert len(outbox) == 1
    assert Challenge.objects.filter(phone=phone).count() == 1


def test_known_and_unknown_phones_get_the_same_answer(new_phone, make_member):
    known = make_member().phone
    unknown = new_phone()
    known_answer = challenge_issue(phone=str(known), ip=IP)
    unknown_answer = challenge_issue(phone=unknown, ip="198.51.100.2")
    assert (known_answer.expires_in, known_answer.resend_in) == (
        unknown_answer.expires_in,
        unknown_answer.resend_in,
    )


def test_demo_backend_returns_the_code_and_others_do_not(new_phone, settings, outbox):
    assert challenge_issue(phone=new_phone(), ip=IP).demo_code is None
    settings.SMS_BACKEND = "demo"
    settings.DEMO_MODE = True  # the demo backend shows codes only in demo mode (or DEBUG)
    issued = challenge_issue(phone=new_phone(), ip=IP)
    assert issued.demo_code is not None and len(issued.demo_code) == 4


def test_a_strangers_new_code_leaves_the_members_pending_code_alone(
    new_phone, outbox, age_challenges
):
    phone = new_phone()
    member_code, member_token = issue(phone, outbox)
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    issue(phone, outbox, ip="198.51.100.9", previous="someone-elses-token")
    assert Challenge.objects.filter(phone=phone, state=Challenge.State.PENDING).count() == 2
    assert verify(phone, member_code, member_token).created


def test_a_stranger_still_gets_at_most_the_phones_daily_codes_and_guesses(
    new_phone, outbox, age_challenges
):
    """Fresh IPs, forged device tokens, a guess past each code's limit: 10 codes × 3 a day."""
    phone = new_phone()
    refused = 0
    for index in range(settings.OTP_PHONE_DAILY + 3):
        ip = f"198.51.100.{index + 1}"
        try:
            code, token = issue(phone, outbox, ip=ip, device_token=f"forged-{index}")
        except ChallengeThrottled as limited:
            assert limited.code == "phone_daily_limit"
            refused += 1
            continue
        for _ in range(settings.OTP_MAX_ATTEMPTS + 1):
            with contextlib.suppress(CodeInvalid, CodeAttemptsExhausted):
                verify(phone, wrong(code), token, ip=ip)
        age_challenges(phone, 3600 / settings.OTP_PHONE_HOURLY * 1.01)
    assert refused == 3
    spent = sum(
        settings.OTP_MAX_ATTEMPTS - left
        for left in Challenge.objects.filter(phone=phone).values_list("attempts_left", flat=True)
    )
    assert spent == settings.OTP_PHONE_DAILY * settings.OTP_MAX_ATTEMPTS


def test_a_device_gets_a_code_while_strangers_used_up_the_phones_day(
    new_phone, outbox, age_challenges
):
    phone = new_phone()
    device_token = verify(phone, *issue(phone, outbox)).device_token
    fill_the_phones_day(phone, outbox, age_challenges)
    with pytest.raises(ChallengeThrottled) as limited:
        challenge_issue(phone=phone, ip="198.51.100.200")
    assert limited.value.code == "phone_daily_limit"

    code, token = issue(phone, outbox, device_token=device_token)
    assert not verify(phone, code, token).created


def test_a_device_is_not_held_by_a_strangers_cooldown_or_hourly_limit(
    new_phone, outbox, age_challenges
):
    phone = new_phone()
    device_token = verify(phone, *issue(phone, outbox)).device_token
    age_challenges(phone, 3600)
    for index in range(settings.OTP_PHONE_HOURLY):
        issue(phone, outbox, ip=f"198.51.100.{index + 1}")
        age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    with pytest.raises(ChallengeThrottled) as limited:
        challenge_issue(phone=phone, ip="198.51.100.200")
    assert limited.value.code == "phone_hourly_limit"
    issue(phone, outbox, device_token=device_token)


def test_a_devices_own_budget_has_the_same_limits(new_phone, outbox, age_challenges):
    phone = new_phone()
    device_token = verify(phone, *issue(phone, outbox)).device_token
    age_challenges(phone, 24 * 3600)
    issue(phone, outbox, device_token=device_token)
    with pytest.raises(ChallengeThrottled) as cooldown:
        challenge_issue(phone=phone, ip=IP, device_token=device_token)
    assert cooldown.value.code == "resend_cooldown"
    # ...which is the device's alone: a stranger may ask meanwhile.
    issue(phone, outbox, ip="198.51.100.1")
    for _ in range(settings.OTP_PHONE_HOURLY - 1):
        age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
        issue(phone, outbox, device_token=device_token)
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    with pytest.raises(ChallengeThrottled) as hourly:
        challenge_issue(phone=phone, ip=IP, device_token=device_token)
    assert hourly.value.code == "phone_hourly_limit"


def test_the_ip_limit_holds_for_devices_too(new_phone, outbox, settings):
    settings.OTP_IP_HOURLY = 2
    phone = new_phone()
    device_token = verify(phone, *issue(phone, outbox)).device_token
    issue(new_phone(), outbox)
    with pytest.raises(ChallengeThrottled) as limited:
        challenge_issue(phone=phone, ip=IP, device_token=device_token)
    assert limited.value.code == "ip_hourly_limit"


@pytest.mark.parametrize("kind", ["garbage", "tampered", "other phone", "expired"])
def test_an_invalid_device_token_is_just_a_stranger(
    new_phone, outbox, age_challenges, monkeypatch, kind
):
    import time

    from auth_flow.devices import device_token_issue

    phone = new_phone()
    if kind == "garbage":
        token = "not-a-token"
    elif kind == "tampered":
        token = device_token_issue(phone=phone)[:-2] + "xx"
    elif kind == "other phone":
        token = device_token_issue(phone=new_phone())
    else:
        real = time.time()
        with monkeypatch.context() as patch:
            patch.setattr(time, "time", lambda: real - 366 * 24 * 3600)
            token = device_token_issue(phone=phone)
    fill_the_phones_day(phone, outbox, age_challenges)
    with pytest.raises(ChallengeThrottled) as limited:
        challenge_issue(phone=phone, ip=IP, device_token=token)
    assert limited.value.code == "phone_daily_limit"


def test_a_devices_new_code_voids_its_own_older_code_only(new_phone, outbox, age_challenges):
    phone = new_phone()
    device_token = verify(phone, *issue(phone, outbox)).device_token
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    old_code, old_token = issue(phone, outbox, device_token=device_token)
    stranger_code, stranger_token = issue(phone, outbox, ip="198.51.100.9")
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    new_code, new_token = issue(phone, outbox, device_token=device_token)
    with pytest.raises(CodeReplaced):
        verify(phone, old_code, old_token)
    assert Challenge.objects.get(token_hash=challenge_token_hash(stranger_token)).state == "pending"
    assert verify(phone, new_code, new_token).user


@pytest.mark.postgres
def test_a_first_code_request_reaches_the_database_twice_before_the_send(new_phone, outbox):
    # Each round trip of a burst's request waits for the GIL among hundreds of threads
    # with its pooled connection checked out: the locks and limits in one, the insert,
    # its commit and the SMS budgets' take in the next. Then the delivery record.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from auth_flow.sms.budgets import budgets_used

    phone = new_phone()
    with CaptureQueriesContext(connection) as queries:
        challenge_issue(phone=phone, ip=IP)
    assert len(queries) == 3
    assert "auth_flow_budget_take" in queries[1]["sql"]
    assert budgets_used(moment=timezone.now())["global"] == (1, 0)
    assert budgets_used(moment=timezone.now())["cc:7"] == (1, 0)
