"""Every rule of the sign-in code table (SPEC.md, "Sign-in code")."""

import contextlib

import pytest
from django.conf import settings
from django.utils import timezone

from auth_flow.errors import (
    ChallengeThrottled,
    CodeAttemptsExhausted,
    CodeExpired,
    CodeInvalid,
    CodeNotRequested,
    CodeUsed,
    SmsBudgetExhausted,
    SmsUnavailable,
)
from auth_flow.models import Challenge
from auth_flow.services import SignIn, challenge_issue, challenge_verify, challenges_purge
from auth_flow.sms import BaseBackend, ProviderError, SendResult
from profiles.models import User

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10_000:04d}"


def issue(phone: str, outbox: list, ip: str = IP, **requester: str) -> tuple[str, str]:
    """Ask for a code as one requester: the code from the SMS and the challenge token."""
    issued = challenge_issue(phone=phone, ip=ip, **requester)
    return outbox[-1].code, issued.challenge


def verify(phone: str, code: str, challenge: str, ip: str = IP) -> SignIn:
    return challenge_verify(phone=phone, code=code, challenge=challenge, ip=ip)


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
    from auth_flow.services import code_hash

    assert code_hash(phone=new_phone(), code="1234") != code_hash(phone=new_phone(), code="1234")


def test_right_code_signs_in_and_creates_the_member_once(new_phone, outbox, age_challenges):
    phone = new_phone()
    first = verify(phone, *issue(phone, outbox))
    assert first.created and str(first.user.phone) == phone
    assert len(first.user.invite_code) == 6
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    second = verify(phone, *issue(phone, outbox))
    assert not second.created and second.user.pk == first.user.pk
    assert User.objects.filter(phone=phone).count() == 1


def test_first_sign_in_records_the_members_address_for_fraud_review(
    new_phone, outbox, age_challenges
):
    phone = new_phone()
    verify(phone, *issue(phone, outbox), ip="198.51.100.20")
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    verify(phone, *issue(phone, outbox), ip="192.0.2.99")

    # The first sign-in's address, not overwritten by later ones.
    assert User.objects.get(phone=phone).signup_ip == "198.51.100.20"


def test_wrong_code_says_how_many_attempts_remain(new_phone, outbox):
    phone = new_phone()
    code, token = issue(phone, outbox)
    with pytest.raises(CodeInvalid) as first:
        verify(phone, wrong(code), token)
    assert first.value.attempts_left == settings.OTP_MAX_ATTEMPTS - 1
    assert "2 attempts left" in first.value.message
    with pytest.raises(CodeInvalid) as second:
        verify(phone, wrong(code), token)
    assert "1 attempt left" in second.value.message


def test_code_is_void_after_three_wrong_attempts_even_the_right_one(new_phone, outbox):
    phone = new_phone()
    code, token = issue(phone, outbox)
    for _ in range(settings.OTP_MAX_ATTEMPTS - 1):
        with pytest.raises(CodeInvalid):
            verify(phone, wrong(code), token)
    with pytest.raises(CodeAttemptsExhausted):
        verify(phone, wrong(code), token)
    with pytest.raises(CodeAttemptsExhausted):
        verify(phone, code, token)
    assert not User.objects.filter(phone=phone).exists()


def test_attempt_limit_follows_the_setting(new_phone, outbox, settings):
    settings.OTP_MAX_ATTEMPTS = 1
    phone = new_phone()
    code, token = issue(phone, outbox)
    with pytest.raises(CodeAttemptsExhausted):
        verify(phone, wrong(code), token)


def test_expired_code_is_refused(new_phone, outbox, age_challenges):
    phone = new_phone()
    code, token = issue(phone, outbox)
    age_challenges(phone, settings.OTP_TTL + 1)
    with pytest.raises(CodeExpired):
        verify(phone, code, token)


def test_code_just_inside_its_lifetime_works(new_phone, outbox, age_challenges):
    phone = new_phone()
    code, token = issue(phone, outbox)
    age_challenges(phone, settings.OTP_TTL - 5)
    assert verify(phone, code, token).created


def test_code_is_single_use(new_phone, outbox):
    phone = new_phone()
    code, token = issue(phone, outbox)
    verify(phone, code, token)
    with pytest.raises(CodeUsed):
        verify(phone, code, token)


def test_new_code_voids_the_same_requesters_older_one(new_phone, outbox, age_challenges):
    phone = new_phone()
    old_code, old_token = issue(phone, outbox)
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    new_code, new_token = issue(phone, outbox, previous=old_token)
    with pytest.raises(CodeNotRequested):
        verify(phone, old_code, old_token)
    assert Challenge.objects.filter(phone=phone, state=Challenge.State.REPLACED).count() == 1
    assert verify(phone, new_code, new_token).user


class DownBackend(BaseBackend):
    name = "down"

    def send(self, *, phone: str, text: str, code: str) -> SendResult:
        raise ProviderError(self.name, "down")


@pytest.mark.parametrize("requester", ["previous", "device_token"])
def test_a_resend_that_fails_keeps_the_code_already_on_the_phone(
    new_phone, outbox, age_challenges, settings, requester
):
    phone = new_phone()
    device_token = verify(phone, *issue(phone, outbox)).device_token
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    old_code, old_token = issue(phone, outbox, device_token=device_token)
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    settings.SMS_BACKEND = f"{__name__}.DownBackend"
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
    assert Challenge.objects.get(token_hash=_hash(old_token)).state == Challenge.State.REPLACED
    Challenge.objects.filter(token_hash=_hash(old_token)).update(
        state=Challenge.State.USED, used_at=timezone.now()
    )
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    issue(phone, outbox, previous=old_token)
    assert Challenge.objects.get(token_hash=_hash(old_token)).state == Challenge.State.USED


def test_code_for_a_phone_that_never_asked_is_refused(new_phone):
    with pytest.raises(CodeNotRequested):
        verify(new_phone(), "1234", "no-such-challenge")


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
    settings.DEMO_MODE = True  # the demo backend shows codes only in demo mode (or DEBUG)
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


# Guesses are bound to the requester (issue 10, item 3)


def test_a_strangers_wrong_guesses_never_void_the_members_pending_code(
    new_phone, outbox, age_challenges
):
    phone = new_phone()
    member_code, member_token = issue(phone, outbox)
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    stranger_code, stranger_token = issue(phone, outbox, ip="198.51.100.9")
    # With its own challenge: three wrong guesses void the stranger's code only.
    for _ in range(settings.OTP_MAX_ATTEMPTS):
        with pytest.raises((CodeInvalid, CodeAttemptsExhausted)):
            verify(phone, wrong(member_code), stranger_token, ip="198.51.100.9")
    # Without one, or with a made-up one: refused, nothing counted.
    for forged in ("", "guess", "x" * 500):
        with pytest.raises(CodeNotRequested):
            verify(phone, wrong(member_code), forged, ip="198.51.100.9")
    member = Challenge.objects.get(phone=phone, state=Challenge.State.PENDING)
    assert member.attempts_left == settings.OTP_MAX_ATTEMPTS
    assert verify(phone, member_code, member_token).created


def test_verify_without_the_challenge_is_refused_and_spends_nothing(new_phone, outbox):
    phone = new_phone()
    code, token = issue(phone, outbox)
    with pytest.raises(CodeNotRequested) as refused:
        verify(phone, code, "")
    assert refused.value.code == "code_not_requested" and refused.value.status == 400
    assert Challenge.objects.get(phone=phone).attempts_left == settings.OTP_MAX_ATTEMPTS
    assert not User.objects.filter(phone=phone).exists()
    assert verify(phone, code, token).created


def test_another_phones_challenge_does_not_answer_this_phones_code(new_phone, outbox):
    mine, theirs = new_phone(), new_phone()
    _, my_token = issue(mine, outbox)
    their_code, _ = issue(theirs, outbox)
    with pytest.raises(CodeNotRequested):
        verify(theirs, their_code, my_token)
    assert not User.objects.filter(phone=theirs).exists()
    assert Challenge.objects.get(phone=theirs).attempts_left == settings.OTP_MAX_ATTEMPTS


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


# Device tokens (issue 10, item 3)


def _hash(token: str) -> str:
    from auth_flow.services import challenge_token_hash

    return challenge_token_hash(token)


def fill_the_phones_day(phone: str, outbox: list, age_challenges) -> None:
    """Strangers ask for every code the phone's shared budget allows today."""
    for index in range(settings.OTP_PHONE_DAILY):
        age_challenges(phone, 3600 / settings.OTP_PHONE_HOURLY * 1.01)
        try:
            issue(phone, outbox, ip=f"198.51.100.{index + 1}")
        except ChallengeThrottled as limited:
            assert limited.code == "phone_daily_limit"
            return
    age_challenges(phone, 3600)


def test_sign_in_hands_out_a_device_token_for_that_phone_only(new_phone, outbox):
    from auth_flow.devices import device_of

    phone, other = new_phone(), new_phone()
    first = verify(phone, *issue(phone, outbox))
    assert device_of(token=first.device_token, phone=phone)
    assert device_of(token=first.device_token, phone=other) == ""
    assert device_of(token=first.device_token + "x", phone=phone) == ""


def test_each_sign_in_is_a_device_of_its_own(new_phone, outbox, age_challenges):
    from auth_flow.devices import device_of

    phone = new_phone()
    first = verify(phone, *issue(phone, outbox))
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    second = verify(phone, *issue(phone, outbox))
    assert device_of(token=first.device_token, phone=phone) != device_of(
        token=second.device_token, phone=phone
    )


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
    with pytest.raises(CodeNotRequested):
        verify(phone, old_code, old_token)
    assert Challenge.objects.get(token_hash=_hash(stranger_token)).state == "pending"
    assert verify(phone, new_code, new_token).user


# A deactivated member (issue 10, item 5)


def test_a_disabled_member_is_refused_after_the_right_code_which_stays_unspent(make_member, outbox):
    from auth_flow.errors import AccountDisabled

    member = make_member()
    member.is_active = False
    member.save(update_fields=["is_active"])
    phone = str(member.phone)
    code, token = issue(phone, outbox)
    with pytest.raises(AccountDisabled) as refused:
        verify(phone, code, token)
    assert (refused.value.code, refused.value.status) == ("account_disabled", 403)
    challenge = Challenge.objects.get(phone=phone)
    assert challenge.state == Challenge.State.PENDING
    assert challenge.attempts_left == settings.OTP_MAX_ATTEMPTS
    member.is_active = True
    member.save(update_fields=["is_active"])
    assert verify(phone, code, token).user == member
