"""The shapes every event payload keeps to: ids, E.164 phones, ISO-8601 UTC times."""

from datetime import UTC, datetime
from typing import Any


def iso_utc(moment: datetime | None) -> str | None:
    """`2026-12-01T08:00:00.123456Z`: UTC, whatever zone the value was in."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def e164(phone: Any) -> str | None:
    """A PhoneNumber (or its string) as E.164: `+79991234567`."""
    if phone is None or phone == "":
        return None
    as_e164 = getattr(phone, "as_e164", None)
    return as_e164 if as_e164 is not None else str(phone)
