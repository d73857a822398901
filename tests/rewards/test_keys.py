"""The keyed hash a referral grant is known by (rewards/keys.py)."""

from django.utils.crypto import salted_hmac
from phonenumber_field.phonenumber import PhoneNumber

from rewards.keys import SALT, phone_key


def test_a_phone_keys_the_same_however_it_is_given():
    # A grant written for a phone and the check when that phone joins again must meet:
    # a parsed number (typed nationally), the stored E.164 text and its PhoneNumber.
    typed = PhoneNumber.from_string("8 999 123-45-67", region="RU")
    stored = PhoneNumber.from_string("+79991234567")
    expected = salted_hmac(SALT, "+79991234567", algorithm="sha256").hexdigest()
    assert phone_key(typed) == phone_key(stored) == phone_key("+79991234567") == expected
    assert phone_key("+79991234568") != expected
