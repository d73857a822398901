"""Toll-fraud guards: which numbers a code may go to, judged before anything is
written or sent ("SMS pumping": premium-rate, satellite and other expensive numbers
texted by a script so that someone else collects the fees).

- Number type (OTP_NUMBER_TYPES, phonenumbers' PhoneNumberType names): mobile
  numbers by default; premium-rate, shared-cost, toll-free, pager, VoIP,
  personal, UAN, voicemail and landlines are refused.
- Region (OTP_ALLOWED_REGIONS, ISO codes; empty allows all). Non-geographic
  numbers (region "001": +881/+882/+883 satellite and international networks,
  +870 Inmarsat, +800/+808 international freephone and shared cost, +979
  premium rate) are refused unless "001" is listed: phonenumbers calls a +881
  satellite phone MOBILE, so its type alone would let it through.
- Prefix (OTP_BLOCKED_PREFIXES, E.164 prefixes): a denylist, as Twilio's Fraud
  Guard and geo permissions work on prefixes. Some ranges are billed as
  international though they sit in another country's code: +7 840 / +7 940
  (Abkhazia) and +7 850 / +7 998 (South Ossetia) are "RU" to phonenumbers, so
  OTP_ALLOWED_REGIONS=RU alone lets them through. The default also lists +870,
  +881, +882, +883 and +979, refused even if "001" is allowed.
"""

from functools import lru_cache

import phonenumbers
from django.conf import settings
from phonenumbers import PhoneNumberType

from auth_flow.errors import PhoneNotAllowed

NON_GEOGRAPHIC = "001"


@lru_cache(maxsize=8)
def _types(names: tuple[str, ...]) -> frozenset[int]:
    return frozenset(getattr(PhoneNumberType, name.strip().upper()) for name in names)


def unknown_number_types(names: list[str]) -> list[str]:
    """Names in OTP_NUMBER_TYPES that phonenumbers does not know (a system check)."""
    return [name for name in names if not hasattr(PhoneNumberType, name.strip().upper())]


def _prefix_digits(value: str) -> str:
    """`+7 940` → `7940`; "" for a blank entry or one that is not a prefix."""
    digits = value.strip().removeprefix("+").replace(" ", "").replace("-", "")
    return digits if digits.isdigit() else ""


@lru_cache(maxsize=8)
def _prefixes(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"+{digits}" for value in values if (digits := _prefix_digits(value)))


def blocked_prefix_errors(values: list[str]) -> list[str]:
    """Entries of OTP_BLOCKED_PREFIXES that are not E.164 prefixes (a start-up error)."""
    return [
        f"OTP_BLOCKED_PREFIXES has {value!r}: write a prefix as +<digits>, e.g. +7940."
        for value in values
        if value.strip() and not _prefix_digits(value)
    ]


def phone_check(*, phone: str) -> int:
    """Raise PhoneNotAllowed unless a code may go to `phone` (E.164); else return its
    country calling code (its budget). Pure computation: no query, a few microseconds,
    so it runs before the challenge is written."""
    if phone.startswith(_prefixes(tuple(settings.OTP_BLOCKED_PREFIXES))):
        raise PhoneNotAllowed()
    number = phonenumbers.parse(phone)
    if phonenumbers.number_type(number) not in _types(tuple(settings.OTP_NUMBER_TYPES)):
        raise PhoneNotAllowed()
    region = phonenumbers.region_code_for_number(number)
    allowed = {code.strip().upper() for code in settings.OTP_ALLOWED_REGIONS if code.strip()}
    if region == NON_GEOGRAPHIC and NON_GEOGRAPHIC not in allowed:
        raise PhoneNotAllowed()
    if allowed and region not in allowed:
        raise PhoneNotAllowed()
    return number.country_code
