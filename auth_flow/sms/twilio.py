"""Twilio Programmable Messaging, through the official `twilio` SDK (Messages API).

The SDK lets a caller pass its own `http_client` (twilio-python's
"advanced-examples/custom-http-client.md"): ours sends through the process's
pooled `requests` session with the send's remaining time budget, and, when
TWILIO_BASE_URL is set, to that host instead of api.twilio.com (tests point it at
a local fake speaking Twilio's REST API).
"""

import logging
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from auth_flow.sms.base import NumberRefused, ProviderError, SendResult
from auth_flow.sms.http import HttpBackend, http_session, transport_error

# Twilio error codes about the recipient (www.twilio.com/docs/api/errors): invalid
# or unreachable 'To', not a mobile / a landline, region not enabled, unsubscribed.
NUMBER_REFUSED = {21211, 21214, 21217, 21408, 21610, 21612, 21614, 21635}


class BudgetedHttpClient(HttpClient):
    """One send's HTTP client: the shared session, a deadline, an optional base URL."""

    def __init__(self, *, timeout: float, base_url: str = "") -> None:
        super().__init__(logging.getLogger("twilio.http_client"), False, max(timeout, 0.01))
        self.base = urlsplit(base_url) if base_url else None

    def request(  # noqa: PLR0913 - the SDK's signature
        self,
        method: str,
        url: str,
        params: dict | None = None,
        data: dict | None = None,
        headers: dict | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if self.base is not None:
            parts = urlsplit(url)
            path = self.base.path.rstrip("/") + parts.path
            url = urlunsplit((self.base.scheme, self.base.netloc, path, parts.query, ""))
        answer = http_session().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout or self.timeout,
            allow_redirects=allow_redirects,
        )
        return Response(int(answer.status_code), answer.text, answer.headers)


class TwilioBackend(HttpBackend):
    name = "twilio"

    @classmethod
    def configuration_errors(cls) -> list[str]:
        errors = [
            f"{name} must be set for SMS_BACKEND=twilio."
            for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
            if not getattr(settings, name)
        ]
        if not (settings.TWILIO_FROM or settings.TWILIO_MESSAGING_SERVICE_SID):
            errors.append(
                "TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID must be set for SMS_BACKEND=twilio."
            )
        return errors

    def attempt(self, *, phone: str, text: str, timeout: float) -> SendResult:
        client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=BudgetedHttpClient(timeout=timeout, base_url=settings.TWILIO_BASE_URL),
        )
        sender = (
            {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
            if settings.TWILIO_MESSAGING_SERVICE_SID
            else {"from_": settings.TWILIO_FROM}
        )
        if settings.TWILIO_STATUS_CALLBACK_URL:
            sender["status_callback"] = settings.TWILIO_STATUS_CALLBACK_URL
        try:
            message = client.messages.create(to=phone, body=text, **sender)
        except requests.RequestException as error:
            raise transport_error(self.name, error) from error
        except (TwilioRestException, TwilioServiceException) as error:
            # Both carry the HTTP status and Twilio's error code: the legacy error body
            # and the RFC 9457 problem body the SDK raises the second for.
            raise self._error(error) from error
        except TwilioException as error:
            # Any other SDK error is still the provider's failure: the next one is tried.
            raise ProviderError(self.name, type(error).__name__) from error
        except ValueError as error:
            # A 2xx whose body is not JSON (a proxy's page): Twilio may have taken the
            # message, so no retry here (a second text); the chain's next provider is
            # still tried, as the member has no code otherwise.
            raise ProviderError(self.name, "answer not json") from error
        return SendResult(provider=self.name, message_id=str(message.sid or "")[:64])

    def _error(
        self, error: TwilioRestException | TwilioServiceException
    ) -> ProviderError | NumberRefused:
        status = error.status if isinstance(error.status, int) else 0
        reason = f"http {status} code {error.code}"
        if error.code in NUMBER_REFUSED:
            return NumberRefused(self.name, reason)
        transient = status >= 500 or status == 429
        return ProviderError(self.name, reason, transient=transient)
