"""Several providers in order, and the one place that judges how a provider's send
ended (`provider_send`):

- sent: the provider took the message (a SendResult) — done;
- refused number (NumberRefused): the provider answered that it will not text this
  number — done, no other provider is asked (it would be asked the same thing);
- refused channel (ChannelRefused): this channel cannot reach the number (not on
  Telegram) — the provider answered, and the next provider (SMS) is tried;
- unknown (OutcomeUnknown): the request went out and no answer came before the
  deadline — done: the code may arrive, and another provider would send a second;
- provider failure (ProviderError, or anything else the backend raised or
  returned: an answer its parser did not expect, a bug) — the next provider is
  tried.

The circuit breaker (auth_flow/sms/breaker.py) hears every outcome here: sent and
both refusals are successes (the provider answered), unknown and failures are failures,
an open circuit is a failure without a call. So no outcome of a trial goes
unreported, and a provider that answers oddly on every request is skipped after
SMS_BREAKER_FAILURES of them instead of being called on every request.

The chain's providers share one wall deadline, SMS_TIMEOUT (auth_flow/sms/deadline.py).
"""

import logging
import time

from django.conf import settings

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
from auth_flow.sms.breaker import CircuitOpen, breaker_for
from auth_flow.sms.deadline import send_deadline, time_left
from core import metrics

logger = logging.getLogger("auth_flow.sms.chain")

# A provider with less time than this left is not called: it could not answer.
MIN_PROVIDER_BUDGET = 0.25


def provider_send(backend: BaseBackend, *, phone: str, text: str, code: str) -> SendResult:
    """Send through one provider; return what it sent or raise one of the three
    SendFailed outcomes of base.py (never anything else), reporting the outcome to its
    breaker and to the metrics (core/metrics.py: sends by provider and outcome, their
    time, the breaker's state)."""
    started = time.perf_counter()
    outcome = "failed"
    try:
        result = _provider_send(backend, phone=phone, text=text, code=code)
        outcome = "sent"
        return result
    except NumberRefused:
        outcome = "refused_number"
        raise
    except ChannelRefused:
        outcome = "refused_channel"
        raise
    except OutcomeUnknown:
        outcome = "unknown"
        raise
    except ProviderError as error:
        outcome = "circuit_open" if isinstance(error.__cause__, CircuitOpen) else "failed"
        raise
    finally:
        metrics.sms_sends.labels(backend.name, outcome).inc()
        if outcome != "circuit_open":
            metrics.sms_send_duration.labels(backend.name).observe(time.perf_counter() - started)
        state = breaker_for(backend.name).state
        metrics.sms_breaker_state.labels(backend.name).set(metrics.BREAKER_STATES[state])


def _provider_send(backend: BaseBackend, *, phone: str, text: str, code: str) -> SendResult:
    breaker = breaker_for(backend.name)
    try:
        breaker.before_call()
    except CircuitOpen as error:
        logger.warning(
            "sms not sent provider=%s phone=%s reason=circuit_open", backend.name, mask_phone(phone)
        )
        raise ProviderError(
            backend.name, "circuit open", retry_after=int(error.retry_after)
        ) from error
    try:
        result = backend.send(phone=phone, text=text, code=code)
        if not isinstance(result, SendResult):
            raise TypeError(f"send returned {type(result).__name__}")  # noqa: TRY301
    except (NumberRefused, ChannelRefused):
        breaker.succeeded()  # the provider answered: it is up
        raise
    except (ProviderError, OutcomeUnknown):
        breaker.failed()
        raise
    except Exception as error:
        breaker.failed()
        logger.exception(
            "sms not sent provider=%s phone=%s reason=unexpected_error error=%s",
            backend.name,
            mask_phone(phone),
            type(error).__name__,
        )
        raise ProviderError(backend.name, f"unexpected {type(error).__name__}") from error
    except BaseException:
        breaker.failed()  # the worker is going away: the trial, if it was one, failed
        raise
    breaker.succeeded()
    return result


class ChainBackend(BaseBackend):
    name = "chain"

    def __init__(self, backends: list[BaseBackend]) -> None:
        self.backends = backends

    @property
    def shows_code(self) -> bool:
        return any(backend.shows_code for backend in self.backends)

    def send(self, *, phone: str, text: str, code: str) -> SendResult:
        last: SendFailed | None = None
        with send_deadline(settings.SMS_TIMEOUT):
            for backend in self.backends:
                left = time_left()
                if last is not None and left is not None and left < MIN_PROVIDER_BUDGET:
                    logger.warning(
                        "sms not sent provider=%s phone=%s reason=no_time_left",
                        backend.name,
                        mask_phone(phone),
                    )
                    break
                try:
                    return provider_send(backend, phone=phone, text=text, code=code)
                except (ProviderError, ChannelRefused) as error:
                    last = error  # the next provider is tried
        assert last is not None  # noqa: S101 - a chain has at least one backend
        raise last
