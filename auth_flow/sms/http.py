"""What the HTTP providers share: one `requests` session, the wall deadline, one
retry, and a log line per outcome (phone masked, never the text). The circuit
breaker and the fallback are the chain's (auth_flow/sms/chain.py)."""

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
    OutcomeUnknown,
    ProviderError,
    SendFailed,
    SendResult,
    mask_phone,
)
from auth_flow.sms.deadline import POOL_CLASSES, deadline_passed, send_deadline

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
            adapter = DeadlineAdapter(pool_connections=4, pool_maxsize=512, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            # Proxy variables of the environment are not read per request (a stat per send).
            session.trust_env = False
            _session = session
        return _session


class DeadlineAdapter(HTTPAdapter):
    """Pools whose connections the send's wall deadline watches (auth_flow/sms/deadline.py)."""

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOL_CLASSES


class HttpBackend(BaseBackend):
    """A provider reached over HTTP. Subclasses implement `attempt` (one request).

    The whole send, its retry included, ends by SMS_TIMEOUT (a wall deadline, or
    the chain's when it set one). Whatever `attempt` raises besides the three
    outcomes of base.py (an answer its parser did not expect: AttributeError,
    OverflowError, RecursionError...) is this provider's failure.
    """

    def send(self, *, phone: str, text: str, code: str) -> SendResult:
        masked = mask_phone(phone)
        with send_deadline(settings.SMS_TIMEOUT) as deadline:
            for attempt in (1, 2):
                try:
                    result = self.attempt(
                        phone=phone, text=text, timeout=max(deadline - time.monotonic(), 0.01)
                    )
                except (NumberRefused, ChannelRefused) as refused:
                    logger.warning(
                        "sms refused provider=%s phone=%s reason=%s",
                        self.name,
                        masked,
                        refused.reason,
                    )
                    raise
                except OutcomeUnknown as unknown:
                    logger.warning(
                        "sms outcome unknown provider=%s phone=%s reason=%s",
                        self.name,
                        masked,
                        unknown.reason,
                    )
                    raise
                except ProviderError as error:
                    left = deadline - time.monotonic()
                    if error.transient and attempt == 1 and left > MIN_RETRY_BUDGET:
                        logger.info(
                            "sms retry provider=%s phone=%s reason=%s",
                            self.name,
                            masked,
                            error.reason,
                        )
                        continue
                    logger.warning(
                        "sms not sent provider=%s phone=%s reason=%s",
                        self.name,
                        masked,
                        error.reason,
                    )
                    raise
                except Exception as error:
                    if deadline_passed():
                        # The deadline cut the answer short somewhere no client maps.
                        raise OutcomeUnknown(self.name, "answer cut at the deadline") from error
                    reason = f"unexpected answer ({type(error).__name__})"
                    logger.warning(
                        "sms not sent provider=%s phone=%s reason=%s", self.name, masked, reason
                    )
                    raise ProviderError(self.name, reason) from error
                logger.info(
                    "sms sent provider=%s phone=%s id=%s", self.name, masked, result.message_id
                )
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    def attempt(self, *, phone: str, text: str, timeout: float) -> SendResult:
        raise NotImplementedError


def transport_error(provider: str, error: requests.RequestException) -> SendFailed:
    """A request that got no usable answer.

    Nothing went out (no connection): worth a retry if time is left. The request
    went out and the deadline (or a read timeout) came first: the provider may have
    the message, so the outcome is unknown (no retry, no other provider)."""
    if isinstance(error, requests.ConnectTimeout):
        return ProviderError(provider, "connect timeout", transient=True)
    if isinstance(error, requests.ReadTimeout) or deadline_passed():
        return OutcomeUnknown(provider, "no answer before the deadline")
    if isinstance(error, requests.ConnectionError):
        return ProviderError(provider, "connection failed", transient=True)
    return ProviderError(provider, type(error).__name__, transient=True)
