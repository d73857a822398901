"""Telegram Gateway (gatewayapi.telegram.org): our own code, delivered in Telegram.

`POST {TELEGRAM_GATEWAY_BASE_URL}/sendVerificationMessage` with `Authorization:
Bearer <token>` and JSON `{phone_number, code, ttl, callback_url}`; the answer is
`{"ok": true, "result": RequestStatus}` (its `request_id` is our message id) or
`{"ok": false, "error": "ACCESS_TOKEN_INVALID"}`. About $0.01 a code, and the fee
is refunded when the message is not delivered within `ttl` (30-3,600 s), so the
ttl is the code's own lifetime. No checkSendAbility first: it is billed like a
send and saves nothing.

A number that is not on Telegram (or cannot receive there) is a refusal of this
channel, not of the number: the chain moves on to SMS. Every other error, and
any answer that is not what the Gateway documents, is a provider failure. So is
no answer within half of SMS_TIMEOUT: the SMS that follows carries the same code,
and the other half of the deadline is left for it.
"""

import requests
from django.conf import settings

from auth_flow.sms.base import ChannelRefused, OutcomeUnknown, ProviderError, SendResult
from auth_flow.sms.http import HttpBackend, http_session, transport_error

DEFAULT_BASE_URL = "https://gatewayapi.telegram.org"
TTL_MIN, TTL_MAX = 30, 3600
# Errors naming the phone number say this channel cannot reach it (not on Telegram,
# or not a number Telegram can text): the next channel is tried.
CHANNEL_REFUSAL_PREFIXES = ("PHONE_NUMBER_", "PHONE_NOT_")
# Worth one retry within the time budget: Telegram asks us to slow down or had an error.
TRANSIENT_PREFIXES = ("FLOOD_WAIT", "INTERNAL", "TIMEOUT")
# The share of SMS_TIMEOUT Telegram may wait for an answer: the rest is the SMS's.
TELEGRAM_SHARE = 0.5


class TelegramBackend(HttpBackend):
    name = "telegram"
    channel = "telegram"

    @classmethod
    def configuration_errors(cls) -> list[str]:
        if settings.TELEGRAM_GATEWAY_TOKEN:
            return []
        return ["TELEGRAM_GATEWAY_TOKEN must be set for an SMS_BACKEND naming telegram."]

    def send(self, *, phone: str, text: str, code: str) -> SendResult:
        # Telegram shows its own text around the code: it takes the code, not ours.
        self._code = code
        return super().send(phone=phone, text=text, code=code)

    def attempt(self, *, phone: str, text: str, timeout: float) -> SendResult:
        params = {
            "phone_number": phone,
            "code": self._code,
            "ttl": min(max(settings.OTP_TTL, TTL_MIN), TTL_MAX),
        }
        if settings.TELEGRAM_GATEWAY_CALLBACK_URL:
            params["callback_url"] = settings.TELEGRAM_GATEWAY_CALLBACK_URL
        base = (settings.TELEGRAM_GATEWAY_BASE_URL or DEFAULT_BASE_URL).rstrip("/")
        try:
            response = http_session().post(
                f"{base}/sendVerificationMessage",
                json=params,
                headers={"Authorization": f"Bearer {settings.TELEGRAM_GATEWAY_TOKEN}"},
                timeout=max(min(timeout, settings.SMS_TIMEOUT * TELEGRAM_SHARE), 0.01),
            )
        except requests.RequestException as error:
            failure = transport_error(self.name, error)
            if isinstance(failure, OutcomeUnknown):
                # Unlike an SMS provider's silence, Telegram's may fall back: the SMS
                # carries the same code (not a second one), and Telegram refunds a
                # message it did not deliver. So the member gets the code either way.
                raise ProviderError(self.name, "no answer in time") from error
            raise failure from error
        if response.status_code >= 500:
            raise ProviderError(self.name, f"http {response.status_code}", transient=True)
        try:
            body = response.json()
        except (ValueError, RecursionError) as error:
            raise ProviderError(self.name, "not json", transient=True) from error
        if not isinstance(body, dict):
            raise ProviderError(self.name, "unexpected answer")
        if body.get("ok") is not True:
            raise self._error(body.get("error"))
        result = body.get("result")
        request_id = result.get("request_id") if isinstance(result, dict) else None
        if not isinstance(request_id, str) or not request_id:
            raise ProviderError(self.name, "no request_id in the answer")
        return SendResult(provider=self.name, message_id=request_id[:64])

    def _error(self, error: object) -> ProviderError | ChannelRefused:
        name = str(error)[:64] if isinstance(error, str) else "unexpected error field"
        if name.startswith(CHANNEL_REFUSAL_PREFIXES):
            return ChannelRefused(self.name, name)
        return ProviderError(self.name, name, transient=name.startswith(TRANSIENT_PREFIXES))
