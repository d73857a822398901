"""SMS.ru (https://sms.ru/api/send): the usual gateway for Russian numbers.

`POST {SMSRU_BASE_URL}/sms/send` with `api_id`, `to` (the E.164 digits), `msg`,
`json=1` (and `from`, a sender name approved in the SMS.ru account). The answer:
`{"status": "OK", "status_code": 100, "sms": {"79991234567": {"status": "OK",
"status_code": 100, "sms_id": "000000-10000000"}}, "balance": 4122.56}`; an error
of the request as a whole is `{"status": "ERROR", "status_code": 200, ...}`.
"""

import requests
from django.conf import settings

from auth_flow.sms.base import NumberRefused, ProviderError, SendResult
from auth_flow.sms.http import HttpBackend, http_session, transport_error

ACCEPTED = 100
# Refusals of this number (the next provider would be asked to text the same number
# the same way): wrong or forbidden recipient, stop list, this number's own limits.
NUMBER_REFUSED = {202, 207, 209, 230, 231, 232, 233}
# Worth one retry: the service says it is briefly unavailable or had an error.
TRANSIENT = {220, 500}
# Everything else is the provider's or the account's problem (200 wrong api_id,
# 201 balance too low, 204 sender name not approved, 206 account's daily limit,
# 300-302 authorisation, ...): the next provider of the chain is tried.


class SmsRuBackend(HttpBackend):
    name = "smsru"

    @classmethod
    def configuration_errors(cls) -> list[str]:
        return [] if settings.SMSRU_API_ID else ["SMSRU_API_ID must be set for SMS_BACKEND=smsru."]

    def attempt(self, *, phone: str, text: str, timeout: float) -> SendResult:
        to = phone.lstrip("+")
        form = {"api_id": settings.SMSRU_API_ID, "to": to, "msg": text, "json": "1"}
        if settings.SMSRU_SENDER:
            form["from"] = settings.SMSRU_SENDER
        url = settings.SMSRU_BASE_URL.rstrip("/") + "/sms/send"
        try:
            response = http_session().post(url, data=form, timeout=max(timeout, 0.01))
        except requests.RequestException as error:
            raise transport_error(self.name, error) from error
        if response.status_code >= 500:
            raise ProviderError(self.name, f"http {response.status_code}", transient=True)
        if response.status_code != 200:
            raise ProviderError(self.name, f"http {response.status_code}")
        try:
            body = response.json()
        except ValueError as error:
            raise ProviderError(self.name, "not json", transient=True) from error
        if not isinstance(body, dict):
            raise ProviderError(self.name, "unexpected answer")
        status = _code(body)
        if body.get("status") != "OK":
            raise self._error(status)
        numbers = body.get("sms")
        entry = numbers.get(to) if isinstance(numbers, dict) else None
        if not isinstance(entry, dict):
            raise ProviderError(self.name, "number missing from the answer")
        number_status = _code(entry)
        if number_status != ACCEPTED:
            raise self._error(number_status)
        return SendResult(provider=self.name, message_id=str(entry.get("sms_id", ""))[:64])

    def _error(self, status: int | None) -> ProviderError | NumberRefused:
        if status in NUMBER_REFUSED:
            return NumberRefused(self.name, f"status {status}")
        return ProviderError(self.name, f"status {status}", transient=status in TRANSIENT)


def _code(part: dict) -> int | None:
    try:
        return int(part.get("status_code"))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):  # OverflowError: 1e999 is infinity
        return None
