"""Standard Webhooks messages: the body, and the three headers signed over it.

Body: `{"type": ..., "timestamp": <the event's time, ISO-8601 UTC>, "data": {...}}`.
Headers: `webhook-id` (the event's id, the receiver's idempotency key: the same
for every retry and replay), `webhook-timestamp` (this attempt's Unix seconds),
`webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`; two of
them, space-separated, while a rotated secret is still honoured). Signed by
the `standardwebhooks` library, so receivers verify with any Standard Webhooks
verifier.
"""

import json
from datetime import UTC, datetime
from typing import Any

from standardwebhooks.webhooks import Webhook


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def body_render(*, event_type: str, occurred_at: datetime, data: dict[str, Any]) -> bytes:
    payload = {"type": event_type, "timestamp": iso_utc(occurred_at), "data": data}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def headers_sign(
    *, msg_id: str, body: bytes, secrets: list[str], at: datetime | None = None
) -> dict[str, str]:
    # The library reads the datetime's clock fields as UTC: hand it UTC.
    moment = (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    text = body.decode()
    signatures = [Webhook(secret).sign(msg_id, moment, text) for secret in secrets]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
