"""The code request's short validation agrees with SendCodeSerializer, or steps aside."""

import pytest
from django.utils import translation

from auth_flow.api import SendCodeSerializer, code_request_input

BODIES = [
    {"phone": "+79991234567"},
    {"phone": "  8 (999) 123-45-67 "},
    {"phone": "+7 ９９９ １２３-４５-６７"},
    {"phone": "+79991234567", "device_token": " abc ", "challenge": "tok", "channel": "sms"},
    {"phone": "+79991234567", "device_token": None, "challenge": None, "channel": None},
    {"phone": "+79991234567", "device_token": "", "challenge": "   "},
    {"phone": "+79991234567", "unknown": {"a": 1}},
    # Not valid, or not plainly: each must be the serializer's to answer.
    {},
    {"phone": ""},
    {"phone": "   "},
    {"phone": None},
    {"phone": "12"},
    {"phone": "+7999123456789012345678901234567890"},
    {"phone": 79991234567},
    {"phone": True},
    {"phone": ["+79991234567"]},
    {"phone": "+79991234567", "device_token": 5},
    {"phone": "+79991234567", "device_token": True},
    {"phone": "+79991234567", "device_token": {"a": 1}},
    {"phone": "+79991234567", "challenge": "a\x00b"},
    {"phone": "+79991234567", "challenge": "\ud800"},
    {"phone": "+79991234567", "challenge": "токен"},
    {"phone": "+79991234567", "channel": ""},
    {"phone": "+79991234567", "channel": "telegram"},
    {"phone": "+79991234567", "channel": ["sms"]},
    [],
    "text",
    None,
]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("language", ["en", "ru"])
def test_short_validation_gives_the_serializers_data_or_none(body: object, language: str):
    with translation.override(language):
        short = code_request_input(body)
        serializer = SendCodeSerializer(data=body)
        if short is None:
            return
        assert serializer.is_valid(), serializer.errors
        assert short == dict(serializer.validated_data)


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "+79991234567"},
        {"phone": "8 999 123 45 67", "device_token": "t", "challenge": None, "channel": "sms"},
    ],
)
def test_plainly_valid_bodies_take_the_short_way(body: dict):
    assert code_request_input(body) is not None


@pytest.mark.parametrize("body", [{}, {"phone": "12"}, {"phone": 79991234567}, []])
def test_anything_else_is_left_to_the_serializer(body: object):
    assert code_request_input(body) is None
