"""Phones as people read them, and as an operator may type them into a search."""

import pytest
from phonenumber_field.phonenumber import PhoneNumber

from core.phones import _international, phone_display, phone_search_term


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+79991234567", "+7 999 123-45-67"),
        (PhoneNumber.from_string("+79991234567"), "+7 999 123-45-67"),
        ("+442079460958", "+44 20 7946 0958"),
        ("+12025550123", "+1 202-555-0123"),
        (None, ""),
        # Never stored (phones are validated), but shown as it is rather than hidden.
        ("not a phone", "not a phone"),
    ],
)
def test_phones_show_in_the_international_format(stored, shown):
    assert phone_display(stored) == shown


def test_a_number_is_formatted_once_then_remembered():
    phone_display("+79997654321")
    before = _international.cache_info()

    phone_display("+79997654321")

    after = _international.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)


@pytest.mark.parametrize(
    ("typed", "searched"),
    [
        ("+7 999 123-45-67", "+79991234567"),
        ("8 (999) 123-45-67", "+79991234567"),
        ("+79991234567", "+79991234567"),
        # Not a whole phone: searched as typed.
        ("999 123", "999 123"),
        ("ABC234", "ABC234"),
        ("234567", "234567"),
        ("", ""),
    ],
)
def test_a_phone_typed_any_way_is_searched_as_stored(typed, searched):
    assert phone_search_term(typed) == searched
