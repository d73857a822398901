"""challenge_verify: the right code signs in once; guesses count against their own challenge."""

import pytest
from django.conf import settings

from auth_flow.errors import (
    CodeAttemptsExhausted,
    CodeExpired,
    CodeInvalid,
    CodeNotRequested,
    CodeReplaced,
    CodeUsed,
)
from auth_flow.models import Challenge
from profiles.models import User
from tests.auth_flow.helpers import issue, verify, wrong

pytestmark = pytest.mark.django_db


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


def test_code_for_a_phone_that_never_asked_is_refused(new_phone):
    with pytest.raises(CodeNotRequested):
        verify(new_phone(), "1234", "no-such-challenge")


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


def test_sign_in_hands_out_a_device_token_for_that_phone_only(new_phone, outbox):
    from auth_flow.devices import device_token_verify

    phone, other = new_phone(), new_phone()
    first = verify(phone, *issue(phone, outbox))
    assert device_token_verify(token=first.device_token, phone=phone)
    assert device_token_verify(token=first.device_token, phone=other) == ""
    assert device_token_verify(token=first.device_token + "x", phone=phone) == ""


def test_each_sign_in_is_a_device_of_its_own(new_phone, outbox, age_challenges):
    from auth_flow.devices import device_token_verify

    phone = new_phone()
    first = verify(phone, *issue(phone, outbox))
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    second = verify(phone, *issue(phone, outbox))
    assert device_token_verify(token=first.device_token, phone=phone) != device_token_verify(
        token=second.device_token, phone=phone
    )


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


# An older code after a resend


def test_an_older_code_after_a_resend_is_code_replaced_and_costs_nothing(
    new_phone, outbox, age_challenges
):
    phone = new_phone()
    old_code, old_token = issue(phone, outbox)
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    new_code, new_token = issue(phone, outbox, previous=old_token)
    if new_code == old_code:  # 1 in 10,000: nothing to tell apart
        return
    with pytest.raises(CodeReplaced) as replaced:
        verify(phone, old_code, new_token)
    assert replaced.value.code == "code_replaced" and replaced.value.status == 400
    assert Challenge.objects.get(state=Challenge.State.PENDING).attempts_left == (
        settings.OTP_MAX_ATTEMPTS
    )
    # The old challenge itself says the same (an API client that kept the old token).
    with pytest.raises(CodeReplaced):
        verify(phone, old_code, old_token)
    assert verify(phone, new_code, new_token).user.phone == phone


def test_a_code_replaced_twice_is_still_recognised(new_phone, outbox, age_challenges):
    phone = new_phone()
    first_code, token = issue(phone, outbox)
    for _ in range(2):
        age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
        code, token = issue(phone, outbox, previous=token)
    if first_code == code:
        return
    with pytest.raises(CodeReplaced):
        verify(phone, first_code, token)


def test_another_requesters_replaced_code_is_just_a_wrong_code(new_phone, outbox, age_challenges):
    phone = new_phone()
    mine_code, mine = issue(phone, outbox)
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    issue(phone, outbox, previous=mine)  # my resend replaces my first code
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    theirs_code, theirs = issue(phone, outbox, ip="198.51.100.9")
    if theirs_code == mine_code:
        return
    with pytest.raises(CodeInvalid):
        verify(phone, mine_code, theirs, ip="198.51.100.9")
