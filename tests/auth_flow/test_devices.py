"""Device tokens: signed, bound to one phone, distinct per device, ignored when invalid."""

import time

import pytest

from auth_flow.devices import MAX_AGE, MAX_LENGTH, device_token_issue, device_token_verify

PHONE = "+79990001122"


def test_a_token_names_its_device_for_its_phone_only():
    token = device_token_issue(phone=PHONE)
    device = device_token_verify(token=token, phone=PHONE)
    assert len(device) == 64
    assert device_token_verify(token=token, phone="+79990001123") == ""


def test_each_token_is_a_device_of_its_own():
    first, second = device_token_issue(phone=PHONE), device_token_issue(phone=PHONE)
    assert device_token_verify(token=first, phone=PHONE) != device_token_verify(
        token=second, phone=PHONE
    )


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "a:b:c", "x" * (MAX_LENGTH + 1), "\x00", "😀:😀"],
)
def test_anything_else_is_no_device_and_no_error(token):
    assert device_token_verify(token=token, phone=PHONE) == ""


def test_a_tampered_token_or_one_signed_with_another_key_is_no_device():
    token = device_token_issue(phone=PHONE)
    assert (
        device_token_verify(token=token[:-1] + ("A" if token[-1] != "A" else "B"), phone=PHONE)
        == ""
    )
    foreign = device_token_issue(phone=PHONE, key="another-deployments-secret-key-0123456789")
    assert device_token_verify(token=foreign, phone=PHONE) == ""


def test_a_token_lasts_a_year(monkeypatch):
    real = time.time()
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: real - MAX_AGE.total_seconds() + 60)
        fresh_enough = device_token_issue(phone=PHONE)
        patch.setattr(time, "time", lambda: real - MAX_AGE.total_seconds() - 60)
        too_old = device_token_issue(phone=PHONE)
    assert device_token_verify(token=fresh_enough, phone=PHONE)
    assert device_token_verify(token=too_old, phone=PHONE) == ""
