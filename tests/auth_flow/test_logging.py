"""One log line per sign-in event, with the phone masked."""

import logging

import pytest

from auth_flow.errors import ChallengeThrottled, CodeError
from auth_flow.services import challenge_issue, challenge_verify
from auth_flow.sms import mask_phone

IP = "203.0.113.5"


@pytest.fixture(autouse=True)
def _codes_in_the_answer(settings):
    # The demo backend hands the code back and logs through the console backend's line.
    settings.SMS_BACKEND = "demo"
    settings.DEMO_MODE = True  # the demo backend shows codes only in demo mode (or DEBUG)


def _sign_in_story(phone, age_challenges):
    """Every event: requested, failed, locked out, limited, verified."""
    issued = challenge_issue(phone=phone, ip=IP)
    wrong = f"{(int(issued.demo_code) + 1) % 10_000:04d}"
    for _ in range(3):
        with pytest.raises(CodeError):
            challenge_verify(phone=phone, code=wrong, challenge=issued.challenge, ip=IP)
    with pytest.raises(ChallengeThrottled):
        challenge_issue(phone=phone, ip=IP)
    age_challenges(phone, 61)
    issued = challenge_issue(phone=phone, ip=IP)
    challenge_verify(phone=phone, code=issued.demo_code, challenge=issued.challenge, ip=IP)


@pytest.mark.django_db
def test_each_sign_in_event_logs_one_line_with_the_phone_masked(caplog, new_phone, age_challenges):
    phone = new_phone()
    masked = f"phone={mask_phone(phone)}"
    caplog.set_level(logging.INFO, logger="auth_flow")

    _sign_in_story(phone, age_challenges)

    events = [r.getMessage() for r in caplog.records if r.name == "auth_flow.services"]
    assert events == [
        f"code requested {masked} ip={IP}",
        f"code failed reason=wrong {masked} left=2",
        f"code failed reason=wrong {masked} left=1",
        f"code locked out {masked}",
        f"code limited reason=resend_cooldown {masked}",
        f"code requested {masked} ip={IP}",
        f"code verified {masked} ip={IP} new_member=True",
    ]


@pytest.mark.django_db
def test_only_the_console_sms_line_shows_the_whole_phone(caplog, new_phone, age_challenges):
    phone = new_phone()
    caplog.set_level(logging.INFO)

    _sign_in_story(phone, age_challenges)

    with_phone = [record for record in caplog.records if phone in record.getMessage()]
    assert len(with_phone) == 2  # one per code sent
    assert {record.name for record in with_phone} == {"auth_flow.sms"}
    assert all(record.getMessage().startswith(f"sms to={phone} ") for record in with_phone)
