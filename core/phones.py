"""Phone numbers as people read them: `+79991234567` shown as `+7 999 123-45-67`.

Stored, compared and sent through the API as E.164; only what a person reads on a
page (member screens, admin) goes through `phone_display`.
"""

import re
from functools import lru_cache

import phonenumbers
from django.conf import settings
from phonenumbers import NumberParseException, PhoneNumberFormat

_PHONE_SPELLING = re.compile(r"[+\d][\d\s().-]{5,}")


def phone_display(value: object) -> str:
    """`value` (E.164 text or a PhoneNumber) in the international format.

    Anything that does not parse is shown as it is rather than hidden.
    """
    if value is None:
        return ""
    return _international(str(value))


@lru_cache(maxsize=4096)
def _international(e164: str) -> str:
    # Parsing costs ~20 us a number: ~1 ms for a full page of 50 referrals, which
    # selectors read as text to avoid exactly that. A member's list repeats on
    # every visit, so the formatted text is kept per number (~3 us for 50).
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def phone_search_term(term: str) -> str:
    """A search term that spells a whole phone, as E.164 (how phones are stored).

    Lists show `+7 999 123-45-67`; an operator who pastes that (or `8 999 …`) into
    the admin's search finds the member. Anything else is searched as typed.
    """
    stripped = term.strip()
    if not _PHONE_SPELLING.fullmatch(stripped):
        return term
    try:
        number = phonenumbers.parse(stripped, settings.PHONE_DEFAULT_REGION)
    except NumberParseException:
        return term
    if not phonenumbers.is_valid_number(number):
        return term
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def phone_masked(value: object) -> str:
    """The international format with all but the area code and the last two digits hidden.

    `+79991234567` -> `+7 999 ***-**-67`: enough to recognise a friend's number,
    not enough to call it.
    """
    shown = phone_display(value)
    if not shown.startswith("+") or " " not in shown:
        return "***"
    country, rest = shown.split(" ", 1)
    digits = [i for i, c in enumerate(rest) if c.isdigit()]
    # Keep the first group (the area or operator code) when it leaves digits to hide.
    first_group = len(re.match(r"\d*", rest).group(0))
    keep = set(digits[:first_group]) if first_group < len(digits) - 2 else set()
    keep |= set(digits[-2:])
    masked = "".join("*" if i in digits and i not in keep else c for i, c in enumerate(rest))
    return f"{country} {masked}"


def phone_e164(text: str) -> str:
    """`text` as E.164 if it spells a valid number, else "" (national: PHONE_DEFAULT_REGION)."""
    if not isinstance(text, str) or not text.strip() or len(text) > 64:
        return ""
    try:
        number = phonenumbers.parse(text.strip(), settings.PHONE_DEFAULT_REGION)
    except NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
