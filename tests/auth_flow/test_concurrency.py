"""Parallel requests on PostgreSQL: real threads, each on its own connection."""

import pytest
from django.conf import settings

from auth_flow.errors import ChallengeThrottled, CodeInvalid, CodeUsed
from auth_flow.models import Challenge
from auth_flow.services import SignIn, challenge_issue, challenge_verify
from profiles.models import User
from tests.conftest import run_in_parallel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_code_submitted_twenty_times_signs_in_once_and_makes_one_user(new_phone, outbox):
    phone = new_phone()
    token = challenge_issue(phone=phone, ip="203.0.113.1").challenge
    code = outbox[-1].code

    results = run_in_parallel(
        [lambda: challenge_verify(phone=phone, code=code, challenge=token, ip="203.0.113.1")] * 20
    )

    sign_ins = [r for r in results if isinstance(r, SignIn)]
    assert len(sign_ins) == 1, results
    assert all(isinstance(r, CodeUsed) for r in results if not isinstance(r, SignIn)), results
    assert User.objects.filter(phone=phone).count() == 1


def test_parallel_first_sign_ins_of_one_phone_make_one_user(new_phone):
    from profiles.services import member_get_or_create

    phone = new_phone()
    results = run_in_parallel([lambda: member_get_or_create(phone=phone)] * 10)
    assert all(not isinstance(r, Exception) for r in results), results
    assert sum(created for _, created in results) == 1
    assert User.objects.filter(phone=phone).count() == 1


def test_parallel_code_requests_for_one_phone_send_one_code(new_phone, outbox):
    phone = new_phone()
    results = run_in_parallel([lambda: challenge_issue(phone=phone, ip="203.0.113.2")] * 10)
    throttled = [r for r in results if isinstance(r, ChallengeThrottled)]
    assert len(throttled) == 9, results
    assert Challenge.objects.filter(phone=phone).count() == 1


def test_parallel_requests_from_one_ip_respect_its_hourly_limit(new_phone, outbox, settings):
    settings.OTP_IP_HOURLY = 5
    phones = [new_phone() for _ in range(12)]
    run_in_parallel([lambda p=p: challenge_issue(phone=p, ip="203.0.113.3") for p in phones])
    assert Challenge.objects.filter(ip="203.0.113.3").count() == 5


def test_a_code_being_replaced_cannot_sign_in_meanwhile(new_phone, outbox, age_challenges):
    import time

    from django.db import transaction

    from auth_flow.services import _challenge_create, _delivery_sent
    from auth_flow.sms import SendResult

    phone = new_phone()
    old_token = challenge_issue(phone=phone, ip="203.0.113.4").challenge
    old_code = outbox[-1].code
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    new = _challenge_create(
        phone=phone,
        ip="203.0.113.4",
        code=f"{(int(old_code) + 1) % 10000:04d}",
        token="the-new-challenge",
    )

    def replace_slowly() -> None:
        # The new code was sent: its requester's older code is voided under the lock.
        with transaction.atomic():
            _delivery_sent(challenge=new, sent=SendResult(provider="locmem"), previous=old_token)
            time.sleep(0.8)

    def verify_old_code_meanwhile():  # noqa: ANN202
        time.sleep(0.3)
        return challenge_verify(phone=phone, code=old_code, challenge=old_token, ip="203.0.113.4")

    _, verdict = run_in_parallel([replace_slowly, verify_old_code_meanwhile])

    assert not isinstance(verdict, SignIn), verdict
    assert not User.objects.filter(phone=phone).exists()


def test_the_old_code_signs_in_while_its_replacement_is_being_sent(
    new_phone, outbox, age_challenges
):
    import time

    from auth_flow.services import _challenge_create

    phone = new_phone()
    old_token = challenge_issue(phone=phone, ip="203.0.113.8").challenge
    old_code = outbox[-1].code
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)

    def resend_not_yet_sent() -> None:
        # Recorded and committed; the gateway call is still under way.
        _challenge_create(phone=phone, ip="203.0.113.8", code="0000", token="on-its-way")
        time.sleep(0.5)

    def verify_old_code_meanwhile():  # noqa: ANN202
        time.sleep(0.2)
        return challenge_verify(phone=phone, code=old_code, challenge=old_token, ip="203.0.113.8")

    _, verdict = run_in_parallel([resend_not_yet_sent, verify_old_code_meanwhile])

    assert isinstance(verdict, SignIn), verdict


def test_a_strangers_parallel_guesses_spend_only_its_own_attempts(
    new_phone, outbox, age_challenges
):
    phone = new_phone()
    member_token = challenge_issue(phone=phone, ip="203.0.113.5").challenge
    member_code = outbox[-1].code
    age_challenges(phone, settings.OTP_RESEND_COOLDOWN)
    stranger_token = challenge_issue(phone=phone, ip="198.51.100.5").challenge
    # Wrong for both codes: the stranger never guesses right here.
    right = {member_code, outbox[-1].code}
    guesses = [
        g for n in range(1, 23) if (g := f"{(int(member_code) + n) % 10000:04d}") not in right
    ]
    guesses = guesses[:20]

    results = run_in_parallel(
        [
            lambda guess=guess, token=token: challenge_verify(
                phone=phone, code=guess, challenge=token, ip="198.51.100.5"
            )
            for guess in guesses
            for token in (stranger_token, "", "forged")
        ]
    )

    assert sum(isinstance(r, CodeInvalid) for r in results) == settings.OTP_MAX_ATTEMPTS - 1
    assert not any(isinstance(r, SignIn) for r in results)
    member = Challenge.objects.get(phone=phone, ip="203.0.113.5")
    assert member.attempts_left == settings.OTP_MAX_ATTEMPTS
    signed_in = challenge_verify(
        phone=phone, code=member_code, challenge=member_token, ip="203.0.113.5"
    )
    assert signed_in.created


def test_a_burst_of_strangers_and_the_members_device_each_get_one_code(new_phone, outbox):
    from auth_flow.devices import device_token_issue

    phone = new_phone()
    device_token = device_token_issue(phone=phone)
    results = run_in_parallel(
        [lambda n=n: challenge_issue(phone=phone, ip=f"198.51.100.{n}") for n in range(1, 11)]
        + [lambda: challenge_issue(phone=phone, ip="203.0.113.6", device_token=device_token)] * 3
    )
    strangers, device = results[:10], results[10:]
    assert sum(not isinstance(r, Exception) for r in strangers) == 1, strangers
    assert sum(not isinstance(r, Exception) for r in device) == 1, device
    assert all(isinstance(r, ChallengeThrottled) for r in results if isinstance(r, Exception))
    assert Challenge.objects.filter(phone=phone).count() == 2


def test_settings_module_uses_the_connection_pool():
    assert settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"] >= 1
