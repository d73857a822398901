"""Every rule of the sign-in code table (SPEC.md, "Sign-in code")."""

import pytest
from django.conf import settings

from auth_flow.errors import (
    ChallengeThrottled,
    CodeAttemptsExhausted,
    CodeExpired,
    CodeInvalid,
    CodeNotRequested,
    CodeUsed,
)
from auth_flow.models import Challenge
from auth_flow.services import challenge_issue, challenge_verify, challenges_purge
from profiles.models import User

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10_000:04d}"


def issue(phone: str, outbox: list, ip: str = IP) -> str:
    challenge_issue(phone=phone, ip=ip)
    return outbox[-1].code


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
    code = issue(phone, outbox)
    challenge = Challenge.objects.get(phone=phone)
    row = Challenge.objects.filter(pk=challenge.pk).values().get()
    assert all(code not in str(value) for key, value in row.items() if key != "phone")
    assert len(challenge.code_hash) == 64


def test_equal_codes_for_two_phones_hash_differently(new_phone, settings):
    from auth_flow.services import code_hash

    assert code_hash(phone=new_phone(), code="1234") != code_hash(phone=new_phone(), code="1234")


def test_right_code_signs_in_and_creates_the_member_once(new_phone, outbox, age_challenges):
    phone = new_phone()
    first = challenge_verify(phone=phone, code=issue(phone, outbox))
    assert first.created and str(first.user.phone) == phone
    assert len(first.user.invite_code) == 6
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    second = challenge_verify(phone=phone, code=issue(phone, outbox))
    assert not second.created and second.user.pk == first.user.pk
    assert User.objects.filter(phone=phone).count() == 1


def test_wrong_code_says_how_many_attempts_remain(new_phone, outbox):
    phone = new_phone()
    code = issue(phone, outbox)
    with pytest.raises(CodeInvalid) as first:
        challenge_verify(phone=phone, code=wrong(code))
    assert first.value.attempts_left == settings.OTP_MAX_ATTEMPTS - 1
    assert "2 attempts left" in first.value.message
    with pytest.raises(CodeInvalid) as second:
        challenge_verify(phone=phone, code=wrong(code))
    assert "1 attempt left" in second.value.message


def test_code_is_void_after_three_wrong_attempts_even_the_right_one(new_phone, outbox):
    phone = new_phone()
    code = issue(phone, outbox)
    for _ in range(settings.OTP_MAX_ATTEMPTS - 1):
        with pytest.raises(CodeInvalid):
            challenge_verify(phone=phone, code=wrong(code))
    with pytest.raises(CodeAttemptsExhausted):
        challenge_verify(phone=phone, code=wrong(code))
    with pytest.raises(CodeAttemptsExhausted):
        challenge_verify(phone=phone, code=code)
    assert not User.objects.filter(phone=phone).exists()


def test_attempt_limit_follows_the_setting(new_phone, outbox, settings):
    settings.OTP_MAX_ATTEMPTS = 1
    phone = new_phone()
    code = issue(phone, outbox)
    with pytest.raises(CodeAttemptsExhausted):
        challenge_verify(phone=phone, code=wrong(code))


def test_expired_code_is_refused(new_phone, outbox, age_challenges):
    phone = new_phone()
    code = issue(phone, outbox)
    age_challenges(phone, settings.OTP_TTL + 1)
    with pytest.raises(CodeExpired):
        challenge_verify(phone=phone, code=code)


def test_code_just_inside_its_lifetime_works(new_phone, outbox, age_challenges):
    phone = new_phone()
    code = issue(phone, outbox)
    age_challenges(phone, settings.OTP_TTL - 5)
    assert challenge_verify(phone=phone, code=code).created


def test_code_is_single_use(new_phone, outbox):
    phone = new_phone()
    code = issue(phone, outbox)
    challenge_verify(phone=phone, code=code)
    with pytest.raises(CodeUsed):
        challenge_verify(phone=phone, code=code)


def test_new_code_voids_the_older_one(new_phone, outbox, age_challenges, monkeypatch):
    codes = iter([1111, 2222])
    monkeypatch.setattr("auth_flow.services.secrets.randbelow", lambda _: next(codes))
    phone = new_phone()
    issue(phone, outbox)
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    issue(phone, outbox)
    with pytest.raises(CodeInvalid):
        challenge_verify(phone=phone, code="1111")
    assert Challenge.objects.filter(phone=phone, state=Challenge.State.REPLACED).count() == 1
    assert challenge_verify(phone=phone, code="2222").user


def test_code_for_a_phone_that_never_asked_is_refused(new_phone):
    with pytest.raises(CodeNotRequested):
        challenge_verify(phone=new_phone(), code="1234")


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
    issued = challenge_issue(phone=new_phone(), ip=IP)
    assert issued.demo_code is not None and len(issued.demo_code) == 4


def test_purge_deletes_only_challenges_older_than_a_day(new_phone, outbox, age_challenges):
    old, fresh = new_phone(), new_phone()
    issue(old, outbox)
    issue(fresh, outbox)
    age_challenges(old, 24 * 3600 + 60)
    assert challenges_purge(batch_size=1) == 1
    assert challenges_purge() == 0
    assert list(Challenge.objects.values_list("phone", flat=True)) == [fresh]
