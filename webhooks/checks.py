"""Start-up rule: production with webhook endpoints saved needs WEBHOOK_SECRET_KEY.

Without endpoints a deploy needs no key (nothing to sign); once endpoints exist
their secrets are unreadable without it, so `migrate` (every deploy's first
step) and `check --database default` stop with this error, and every delivery
try logs it (the attempt's error) until the key is set.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError

from webhooks.crypto import NOT_CONFIGURED


def key_missing_with_endpoints() -> str | None:
    if settings.WEBHOOK_SECRET_KEY:
        return None
    from webhooks.models import Endpoint

    try:
        if not Endpoint.objects.exists():
            return None
    except DatabaseError:
        return None  # no database or no table yet: nothing saved to read
    return f"Webhook endpoints are saved but WEBHOOK_SECRET_KEY is not set. {NOT_CONFIGURED}"


@register(Tags.database)
def webhook_key_present(**kwargs: object) -> list[Error]:
    message = key_missing_with_endpoints()
    return [Error(message, id="webhooks.E001")] if message else []
