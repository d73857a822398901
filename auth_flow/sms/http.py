"""What the HTTP providers share: one `requests` session, the time budget, one retry,
the circuit breaker, and a log line per outcome (phone masked, never the text)."""

import logging
import threading
import time

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from auth_flow.sms.base import (
    BaseBackend,
    ChannelRefused,
    NumberRefused,
    ProviderError,
    SendResult,
    mask_phone,
)
from auth_flow.sms.breaker import CircuitOpen, breaker_for

logger = logging.getLogger("auth_flow.sms.http")

# Below this, a retry could not get an answer in time: fail now instead.
MIN_RETRY_BUDGET = 0.25

_session: requests.Session | None = None
_session_lock = threading.Lock()


def http_session() -> requests.Session:
    """One pooled session per process: hundreds of threads send through it."""
    global _session  # noqa: PLW0603 - a process-wide pool, made on first use
    with _session_lock:
        if _session is None:
            session = requests.Session()
            # Room for every gunicorn thread of a burst to keep its connection alive
            # (a full pool discards connections with a warning each); no urllib3
            # retries: the retry below knows the time budget, they do not.
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=512, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            # Proxy variables of the environment are not read per request (a stat per send).
            session.trust_env = False
            _session = session
        return _session


class HttpBackend(BaseBackend):
    """A provider reached over HTTP. Subclasses implement `attempt` (one request)."""

    def send(self, *, phone: str, text: str, code: str) -> SendResult:
        breaker = breaker_for(self.name)
        masked = mask_phone(phone)
        try:
            breaker.before_call()
        except CircuitOpen as error:
            logger.warning(
                "sms not sent provider=%s phone=%s reason=circuit_open", self.name, masked
            )
            raise ProviderError(
                self.name, "circuit open", retry_after=int(error.retry_after)
            ) from error
        deadline = time.monotonic() + settings.SMS_TIMEOUT
        for attempt in (1, 2):
            try:
                result = self.attempt(phone=phone, text=text, timeout=deadline - time.monotonic())
            except (NumberRefused, ChannelRefused) as refused:
                breaker.succeeded()  # the provider answered: it is up
                logger.warning(
                    "sms refused provider=%s phone=%s reason=%s", self.name, masked, refused.reason
                )
                raise
            except ProviderError as error:
                left = deadline - time.monotonic()
                if error.transient and attempt == 1 and left > MIN_RETRY_BUDGET:
                    logger.info(
                        "sms retry provider=%s phone=%s reason=%s", self.name, masked, error.reason
                    )
                    continue
                breaker.failed()
                logger.warning(
                    "sms not sent provider=%s phone=%s reason=%s", self.name, masked, error.reason
                )
                raise
            breaker.succeeded()
            logger.info("sms sent provider=%s phone=%s id=%s", self.name, masked, result.message_id)
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def attempt(self, *, phone: str, text: str, timeout: float) -> SendResult:
        raise NotImplementedError


def transport_error(provider: str, error: requests.RequestException) -> ProviderError:
    """A request that got no usable answer: worth a retry if time is left."""
    if isinstance(error, requests.Timeout):
        return ProviderError(provider, "timeout", transient=True)
    if isinstance(error, requests.ConnectionError):
        return ProviderError(provider, "connection failed", transient=True)
    return ProviderError(provider, type(error).__name__, transient=True)
