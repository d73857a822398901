from collections.abc import Callable

import pytest
from rest_framework.response import Response
from rest_framework.test import APIClient

from auth_flow.forms import PHONE_INVALID
from auth_flow.sms import LocmemBackend
from profiles.models import User
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db

CODE_URL = "/api/v1/auth/code/"
TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
LOGOUT_URL = "/api/v1/auth/logout/"


def request_code(api: APIClient, phone: str, **extra: str) -> tuple[str, str]:
    """The code from the SMS and the challenge from the answer."""
    response = api.post(CODE_URL, {"phone": phone, **extra}, format="json")
    assert response.status_code == 202, response.json()
    return LocmemBackend.outbox[-1].code, response.json()["challenge"]


def verify(api: APIClient, phone: str, code: str, challenge: str) -> Response:
    body = {"phone": phone, "code": code, "challenge": challenge}
    return api.post(TOKEN_URL, body, format="json")


def sign_in(api: APIClient, phone: str, **extra: str) -> dict:
    response = verify(api, phone, *request_code(api, phone, **extra))
    assert response.status_code == 200, response.json()
    return response.json()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10_000:04d}"


# Code request


def test_code_request_answers_202_with_timings(api: APIClient, new_phone: Callable, outbox):
    phone = new_phone()
    response = api.post(CODE_URL, {"phone": phone}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body == {
        "phone": phone,
        "challenge": body["challenge"],
        "expires_in": 300,
        "resend_in": 60,
        "channel": "sms",
    }
    assert len(body["challenge"]) >= 22  # at least 128 random bits, URL-safe
    assert outbox[-1].phone == phone


def test_code_request_normalises_a_national_number_to_e164(api: APIClient):
    response = api.post(CODE_URL, {"phone": "8 (999) 123-45-67"}, format="json")
    assert response.json()["phone"] == "+79991234567"


def test_demo_backend_adds_the_code_to_the_answer(api: APIClient, new_phone, settings):
    settings.SMS_BACKEND = "demo"
    settings.DEMO_MODE = True  # the demo backend shows codes only in demo mode (or DEBUG)
    body = api.post(CODE_URL, {"phone": new_phone()}, format="json").json()
    assert body["demo_code"].isdigit() and len(body["demo_code"]) == 4


@pytest.mark.parametrize("phone", ["12", "not a phone", "", "+7" + "9" * 40, "+7999\x00123"])
def test_bad_phone_is_a_field_error_with_an_example(api: APIClient, phone: str):
    body = assert_error(
        api.post(CODE_URL, {"phone": phone}, format="json"), 400, "invalid", field="phone"
    )
    assert str(PHONE_INVALID) in body["fields"]["phone"]


def test_missing_phone_gets_the_web_forms_message(api: APIClient):
    body = assert_error(api.post(CODE_URL, {}, format="json"), 400, "invalid", field="phone")
    assert body["fields"]["phone"] == [str(PHONE_INVALID)]


def test_known_and_unknown_phones_get_the_same_answer(api: APIClient, make_member, new_phone):
    known = api.post(CODE_URL, {"phone": str(make_member().phone)}, format="json").json()
    unknown = api.post(CODE_URL, {"phone": new_phone()}, format="json").json()
    assert set(known) == set(unknown)
    assert known["expires_in"] == unknown["expires_in"]


def test_second_code_within_cooldown_is_429_with_retry_after(api: APIClient, new_phone):
    phone = new_phone()
    request_code(api, phone)
    response = api.post(CODE_URL, {"phone": phone}, format="json")
    assert_error(response, 429, "resend_cooldown")
    assert 0 < int(response["Retry-After"]) <= 60


def test_phone_hourly_limit_is_429(api: APIClient, new_phone, age_challenges, settings):
    settings.OTP_PHONE_HOURLY = 2
    phone = new_phone()
    for _ in range(2):
        request_code(api, phone)
        age_challenges(phone, 61)
    response = api.post(CODE_URL, {"phone": phone}, format="json")
    assert_error(response, 429, "phone_hourly_limit")
    assert int(response["Retry-After"]) > 60


def test_phone_daily_limit_is_429(api: APIClient, new_phone, age_challenges, settings):
    settings.OTP_PHONE_DAILY = 2
    phone = new_phone()
    for _ in range(2):
        request_code(api, phone)
        age_challenges(phone, 3601)
    response = api.post(CODE_URL, {"phone": phone}, format="json")
    assert_error(response, 429, "phone_daily_limit")
    assert int(response["Retry-After"]) > 3600


def test_ip_hourly_limit_is_429(api: APIClient, new_phone, settings):
    settings.OTP_IP_HOURLY = 2
    request_code(api, new_phone())
    request_code(api, new_phone())
    response = api.post(CODE_URL, {"phone": new_phone()}, format="json")
    assert_error(response, 429, "ip_hourly_limit")
    assert int(response["Retry-After"]) > 0


# Sign-in


def test_right_code_returns_tokens_and_creates_the_member(api: APIClient, new_phone):
    phone = new_phone()
    body = sign_in(api, phone)
    assert body["access"] and body["refresh"]
    assert body["created"] is True
    member = User.objects.get(phone=phone)
    assert body["user"]["phone"] == phone
    assert body["user"]["invite_code"] == member.invite_code


def test_second_sign_in_does_not_create_the_member_again(api: APIClient, make_member):
    phone = str(make_member().phone)
    assert sign_in(api, phone)["created"] is False


def test_access_token_opens_the_profile(api: APIClient, new_phone):
    tokens = sign_in(api, new_phone())
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api.get("/api/v1/profile/").status_code == 200


def test_wrong_code_is_code_invalid_with_attempts_left(api: APIClient, new_phone):
    phone = new_phone()
    code, challenge = request_code(api, phone)
    response = verify(api, phone, wrong(code), challenge)
    body = assert_error(response, 400, "code_invalid", field="code")
    assert "2 attempts left" in body["detail"]


def test_third_wrong_code_voids_it(api: APIClient, new_phone):
    phone = new_phone()
    code, challenge = request_code(api, phone)
    for _ in range(2):
        verify(api, phone, wrong(code), challenge)
    response = verify(api, phone, wrong(code), challenge)
    assert_error(response, 400, "code_attempts_exhausted", field="code")
    response = verify(api, phone, code, challenge)
    assert_error(response, 400, "code_attempts_exhausted")


def test_expired_code_is_code_expired(api: APIClient, new_phone, age_challenges):
    phone = new_phone()
    code, challenge = request_code(api, phone)
    age_challenges(phone, 301)
    response = verify(api, phone, code, challenge)
    assert_error(response, 400, "code_expired", field="code")


def test_used_code_is_code_used(api: APIClient, new_phone):
    phone = new_phone()
    code, challenge = request_code(api, phone)
    verify(api, phone, code, challenge)
    response = verify(api, phone, code, challenge)
    assert_error(response, 400, "code_used", field="code")


def test_code_for_a_phone_that_asked_for_none_is_code_not_requested(api: APIClient, new_phone):
    response = verify(api, new_phone(), "1234", "a-challenge-nobody-was-given")
    assert_error(response, 400, "code_not_requested", field="code")


@pytest.mark.parametrize("code", ["12", "12345", "abcd", "", None, 1234.5])
def test_malformed_code_is_a_field_error(api: APIClient, new_phone, code):
    response = api.post(
        TOKEN_URL, {"phone": new_phone(), "code": code, "challenge": "c"}, format="json"
    )
    assert_error(response, 400, "invalid", field="code")


# Guesses bound to the requester, device tokens, disabled members


def test_sign_in_without_the_challenge_is_refused(api: APIClient, new_phone):
    phone = new_phone()
    code, challenge = request_code(api, phone)
    response = api.post(TOKEN_URL, {"phone": phone, "code": code}, format="json")
    assert_error(response, 400, "invalid", field="challenge")
    assert_error(verify(api, phone, code, ""), 400, "invalid", field="challenge")
    assert verify(api, phone, code, challenge).status_code == 200


def test_a_strangers_wrong_guesses_do_not_burn_the_members_code(
    api: APIClient, new_phone, age_challenges
):
    phone = new_phone()
    code, challenge = request_code(api, phone)
    stranger = APIClient(REMOTE_ADDR="198.51.100.7")
    # No code asked for: a made-up or another number's challenge counts nothing.
    _, elsewhere = request_code(stranger, new_phone())
    for forged in ("made-up", elsewhere):
        for _ in range(3):
            assert_error(verify(stranger, phone, wrong(code), forged), 400, "code_not_requested")
    # With its own code: three wrong guesses void the stranger's code only.
    age_challenges(phone, 60)
    _, own = request_code(stranger, phone)
    for _ in range(3):
        verify(stranger, phone, wrong(code), own)
    assert_error(verify(stranger, phone, code, own), 400, "code_attempts_exhausted")

    response = verify(api, phone, code, challenge)
    assert response.status_code == 200, response.json()


def test_the_older_code_on_the_new_challenge_is_code_replaced_and_costs_nothing(
    api: APIClient, new_phone, age_challenges
):
    phone = new_phone()
    first_code, first = request_code(api, phone)
    age_challenges(phone, 60)
    second_code, second = request_code(api, phone, challenge=first)
    if first_code in (second_code, wrong(second_code)):
        return  # 2 in 10,000: nothing to tell apart
    body = assert_error(verify(api, phone, first_code, second), 400, "code_replaced", field="code")
    assert "newer code" in body["detail"]
    # Still 3 attempts: two wrong guesses leave one, and the right code signs in.
    assert "2 attempts left" in verify(api, phone, wrong(second_code), second).json()["detail"]
    assert "1 attempt left" in verify(api, phone, wrong(second_code), second).json()["detail"]
    assert verify(api, phone, second_code, second).status_code == 200


def test_a_resend_with_the_previous_challenge_voids_only_that_code(
    api: APIClient, new_phone, age_challenges
):
    phone = new_phone()
    first_code, first = request_code(api, phone)
    age_challenges(phone, 60)
    stranger_code, stranger = request_code(APIClient(REMOTE_ADDR="198.51.100.8"), phone)
    age_challenges(phone, 60)
    second_code, second = request_code(api, phone, challenge=first)
    assert_error(verify(api, phone, first_code, first), 400, "code_replaced", field="code")
    assert verify(api, phone, second_code, second).status_code == 200
    assert verify(APIClient(), phone, stranger_code, stranger).status_code == 200


def test_sign_in_answers_a_device_token(api: APIClient, new_phone):
    from auth_flow.devices import device_token_verify

    phone = new_phone()
    body = sign_in(api, phone)
    assert device_token_verify(token=body["device_token"], phone=phone)


def test_a_device_token_gets_a_code_while_strangers_hold_the_phone_at_its_limits(
    api: APIClient, new_phone, age_challenges, settings
):
    settings.OTP_PHONE_DAILY = 3
    phone = new_phone()
    device_token = sign_in(api, phone)["device_token"]
    for index in range(3):
        age_challenges(phone, 3600)
        APIClient(REMOTE_ADDR=f"198.51.100.{index + 1}").post(
            CODE_URL, {"phone": phone}, format="json"
        )
    age_challenges(phone, 3600)
    refused = api.post(CODE_URL, {"phone": phone}, format="json")
    assert_error(refused, 429, "phone_daily_limit")
    forged = api.post(CODE_URL, {"phone": phone, "device_token": "forged"}, format="json")
    assert_error(forged, 429, "phone_daily_limit")

    body = sign_in(api, phone, device_token=device_token)
    assert body["created"] is False


@pytest.mark.parametrize("token", [None, "", "garbage", "x" * 5000, "a:b:c"])
def test_a_malformed_device_token_or_previous_challenge_is_ignored(
    api: APIClient, new_phone, token
):
    response = api.post(
        CODE_URL, {"phone": new_phone(), "device_token": token, "challenge": token}, format="json"
    )
    assert response.status_code == 202, response.json()


def test_another_numbers_device_token_is_ignored(api: APIClient, new_phone):
    device_token = sign_in(api, new_phone())["device_token"]
    phone = new_phone()
    request_code(api, phone, device_token=device_token)
    assert_error(
        api.post(CODE_URL, {"phone": phone, "device_token": device_token}, format="json"),
        429,
        "resend_cooldown",
    )


def test_a_disabled_member_gets_account_disabled_and_keeps_the_code(api: APIClient, make_member):
    member = make_member()
    phone = str(member.phone)
    User.objects.filter(pk=member.pk).update(is_active=False)
    code, challenge = request_code(api, phone)
    body = assert_error(verify(api, phone, code, challenge), 403, "account_disabled")
    assert "access" not in body and "disabled" in body["detail"]
    User.objects.filter(pk=member.pk).update(is_active=True)
    assert verify(api, phone, code, challenge).status_code == 200


# Refresh and logout


def test_refresh_returns_a_new_pair(api: APIClient, new_phone):
    tokens = sign_in(api, new_phone())
    response = api.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 200
    fresh = response.json()
    assert set(fresh) == {"access", "refresh"}
    assert fresh["refresh"] != tokens["refresh"]


def test_rotated_refresh_token_is_refused(api: APIClient, new_phone):
    tokens = sign_in(api, new_phone())
    api.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json")
    response = api.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json")
    assert_error(response, 401, "token_not_valid")


def test_logout_answers_204(api: APIClient, new_phone):
    tokens = sign_in(api, new_phone())
    response = api.post(LOGOUT_URL, {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 204
    assert response.content == b""


def test_blacklisted_refresh_token_is_refused(api: APIClient, new_phone):
    tokens = sign_in(api, new_phone())
    api.post(LOGOUT_URL, {"refresh": tokens["refresh"]}, format="json")
    response = api.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json")
    assert_error(response, 401, "token_not_valid")
    response = api.post(LOGOUT_URL, {"refresh": tokens["refresh"]}, format="json")
    assert_error(response, 401, "token_not_valid")


def test_access_token_is_not_a_refresh_token(api: APIClient, new_phone):
    tokens = sign_in(api, new_phone())
    for url in (REFRESH_URL, LOGOUT_URL):
        response = api.post(url, {"refresh": tokens["access"]}, format="json")
        assert_error(response, 401, "token_not_valid")


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "\\ud800", "é" * 5000, "\\u0000", "😀"])
def test_malformed_refresh_token_is_refused(api: APIClient, token: str):
    for url in (REFRESH_URL, LOGOUT_URL):
        body = f'{{"refresh": "{token}"}}'
        response = api.post(url, body, content_type="application/json")
        assert response.status_code in (400, 401), response.content
        assert_error(response, response.status_code, response.json()["code"])


def test_refresh_token_of_a_deleted_member_is_refused(api: APIClient, new_phone):
    phone = new_phone()
    tokens = sign_in(api, phone)
    User.objects.filter(phone=phone).delete()
    response = api.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json")
    assert_error(response, 401, "no_active_account")


def test_missing_refresh_token_is_a_field_error(api: APIClient):
    for url in (REFRESH_URL, LOGOUT_URL):
        assert_error(api.post(url, {}, format="json"), 400, "invalid", field="refresh")
