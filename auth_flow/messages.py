"""The text of the sign-in SMS.

It ends with the origin-bound line `@<host> #<code>` (the WebOTP and iOS
one-time-code format): Android Chrome hands the code to the page of that host
only (navigator.credentials.get({otp})), iOS Safari offers it above the keyboard.
The host is OTP_ORIGIN_HOST, by default the first of ALLOWED_HOSTS that is a name.

A code must cost one SMS: 160 GSM-7 characters, or 70 in UCS-2 as soon as one
character is outside GSM-7 (any Cyrillic letter). A long host leaves less room
for the words: a shorter wording is used, then the origin line alone (it holds
the code too).
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.utils.translation import get_language, gettext, gettext_noop

# GSM 03.38 basic character set (one septet each) and its extension (two septets).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")
GSM7_SEGMENT = 160
UCS2_SEGMENT = 70


def sms_segment_units(text: str) -> tuple[int, int]:
    """(units the text takes, units one segment holds): GSM-7 septets of 160, or
    UCS-2 code units of 70 once a character is outside GSM-7."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        return sum(2 if char in GSM7_EXTENSION else 1 for char in text), GSM7_SEGMENT
    return len(text.encode("utf-16-le")) // 2, UCS2_SEGMENT


def sms_fits_one_segment(text: str) -> bool:
    used, room = sms_segment_units(text)
    return used <= room


def otp_origin_host() -> str:
    """OTP_ORIGIN_HOST, else the first of ALLOWED_HOSTS that is a host name (not an
    IP address, not a wildcard); "" if there is none."""
    return _origin_host(settings.OTP_ORIGIN_HOST, tuple(settings.ALLOWED_HOSTS))


# Every code request asks (the settings' values are the key): parsing each allowed
# host as an IP address, to skip those, cost more than the rest of the text.
@lru_cache(maxsize=8)
def _origin_host(configured: str, allowed_hosts: tuple[str, ...]) -> str:
    if configured:
        return configured
    for host in allowed_hosts:
        name = host.strip().lstrip(".").split(":")[0] if not host.startswith("[") else ""
        if not name or name == "*":
            continue
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return name.lower()
    return ""


def otp_sms_text(*, code: str) -> str:
    """The sign-in SMS in the active language, one segment long, ending with
    `@<host> #<code>` when a host is known."""
    host = otp_origin_host()
    # Which wording fits depends on the code's length and alphabet, not on its
    # digits: judged once per language, host and shape of code (every code is 4 digits).
    shape = "0" * len(code) if code.isascii() and code.isdigit() else code
    wording = _fitting_wording(get_language(), host, shape)
    if wording is None:
        return _sms_text(None, host, code)
    return _sms_text(gettext(WORDINGS[wording]), host, code)


# The SMS wordings, longest first (translated where used; gettext_noop marks them).
WORDINGS = (gettext_noop("Your sign-in code: %(code)s"), gettext_noop("Code: %(code)s"))


def _sms_text(words: str | None, host: str, code: str) -> str:
    origin = f"@{host} #{code}" if host else ""
    if words is None:
        return origin
    words = words % {"code": code}
    return f"{words}\n\n{origin}" if origin else words


@lru_cache(maxsize=64)
def _fitting_wording(language: str | None, host: str, code: str) -> int | None:
    """The first of WORDINGS whose text fits one segment in `language`, else None
    (the origin line alone)."""
    for index, wording in enumerate(WORDINGS):
        if sms_fits_one_segment(_sms_text(gettext(wording), host, code)):
            return index
    return None
