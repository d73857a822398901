"""Status callbacks from code providers: what became of each message.

Twilio posts to the `StatusCallback` URL it was given with the message
(TWILIO_STATUS_CALLBACK_URL) and signs each request (X-Twilio-Signature: an
HMAC-SHA1 of the URL and the form fields, keyed with the auth token). The URL
checked is the configured public one: behind a TLS proxy the app sees another
scheme or host than Twilio called, and a signature over the wrong URL never matches.
"""

import hashlib
import hmac
import json
import logging
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from auth_flow.services import delivery_report

logger = logging.getLogger(__name__)


@csrf_exempt  # Twilio cannot hold a CSRF token; the signature is the proof instead.
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    token = settings.TWILIO_AUTH_TOKEN
    url = settings.TWILIO_STATUS_CALLBACK_URL or request.build_absolute_uri()
    signature = request.headers.get("X-Twilio-Signature", "")
    params = request.POST.dict()
    if not (token and signature and RequestValidator(token).validate(url, params, signature)):
        logger.warning("twilio status callback refused: bad signature")
        return HttpResponseForbidden("bad signature")
    found = delivery_report(
        provider="twilio",
        message_id=params.get("MessageSid", "")[:64],
        status=params.get("MessageStatus", ""),
    )
    if not found:
        logger.info("twilio status callback for an unknown message")
    # Twilio only needs a 2xx; an empty body is the usual answer.
    return HttpResponse(status=204)


# Reports older than this are refused: a captured request cannot be replayed later.
TELEGRAM_REPORT_MAX_AGE = 300
# Telegram's DeliveryStatus.status values, as our delivery states.
TELEGRAM_STATUSES = {"sent": "sent", "delivered": "delivered", "read": "read", "expired": "expired"}


def telegram_report_valid(*, token: str, timestamp: str, signature: str, body: bytes) -> bool:
    """The Gateway's signature: HMAC-SHA256 over `<timestamp>\\n<body>`, keyed with the
    SHA-256 of the API token, hex; and a timestamp within TELEGRAM_REPORT_MAX_AGE."""
    try:
        age = time.time() - int(timestamp)
    except ValueError:
        return False
    if not token or abs(age) > TELEGRAM_REPORT_MAX_AGE:
        return False
    key = hashlib.sha256(token.encode()).digest()
    expected = hmac.new(key, timestamp.encode() + b"\n" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


@csrf_exempt  # The Gateway cannot hold a CSRF token; the signature is the proof instead.
@require_POST
def telegram_status(request: HttpRequest) -> HttpResponse:
    """Telegram Gateway's delivery reports (callback_url): a RequestStatus as JSON."""
    if not telegram_report_valid(
        token=settings.TELEGRAM_GATEWAY_TOKEN,
        timestamp=request.headers.get("X-Request-Timestamp", ""),
        signature=request.headers.get("X-Request-Signature", ""),
        body=request.body,
    ):
        logger.warning("telegram status report refused: bad or stale signature")
        return HttpResponseForbidden("bad signature")
    try:
        report = json.loads(request.body)
        request_id = str(report["request_id"])[:64]
        delivery = report.get("delivery_status") or {}
        status = str(delivery.get("status", "")) if isinstance(delivery, dict) else ""
        refunded = report.get("is_refunded") is True
    except (ValueError, KeyError, TypeError, RecursionError):
        return HttpResponseBadRequest("not a delivery report")
    if "\x00" in request_id:
        return HttpResponseBadRequest("not a delivery report")
    found = delivery_report(
        provider="telegram",
        message_id=request_id,
        status=TELEGRAM_STATUSES.get(status, ""),
        refunded=refunded,
    )
    if not found:
        logger.info("telegram status report for an unknown request")
    return HttpResponse(status=204)
