"""Status callbacks from SMS providers: what became of each message.

Twilio posts to the `StatusCallback` URL it was given with the message
(TWILIO_STATUS_CALLBACK_URL) and signs each request (X-Twilio-Signature: an
HMAC-SHA1 of the URL and the form fields, keyed with the auth token). The URL
checked is the configured public one: behind a TLS proxy the app sees another
scheme or host than Twilio called, and a signature over the wrong URL never matches.
"""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
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
