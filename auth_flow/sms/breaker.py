"""A per-process circuit breaker: a dead provider fails fast instead of holding threads.

Closed: calls pass; `failures` consecutive failures open it. Open: calls fail at
once until `cooloff` seconds have passed. Half-open: one trial call passes (the
others still fail fast); its success closes the circuit, its failure opens it for
another cool-off. A refused number is a success here: the provider answered.

Per process on purpose: each process learns on its own that a provider is down
within `failures` requests, and no shared store has to be up for the breaker to
work. Thread-safe: gunicorn's threaded workers call it from hundreds of threads.
"""

import threading
import time
from collections.abc import Callable

from django.conf import settings


class CircuitOpen(Exception):  # noqa: N818 - a state, not an error of the caller
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"circuit open for {retry_after:.0f} s")
        self.retry_after = retry_after


class CircuitBreaker:
    CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"

    def __init__(
        self, *, failures: int, cooloff: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = failures
        self.cooloff = cooloff
        self.clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at = 0.0
        self._state = self.CLOSED

    @property
    def state(self) -> str:
        with self._lock:
            if self._state == self.OPEN and self.clock() - self._opened_at >= self.cooloff:
                return self.HALF_OPEN
            return self._state

    def before_call(self) -> None:
        """Raise CircuitOpen unless this call may go to the provider."""
        with self._lock:
            if self._state == self.CLOSED:
                return
            waited = self.clock() - self._opened_at
            if self._state == self.OPEN and waited >= self.cooloff:
                # This caller is the trial; until it reports, others keep failing fast.
                self._state = self.HALF_OPEN
                return
            raise CircuitOpen(max(1.0, self.cooloff - waited))

    def succeeded(self) -> None:
        with self._lock:
            self._state = self.CLOSED
            self._failures = 0

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            if self._state == self.HALF_OPEN or self._failures >= self.max_failures:
                self._state = self.OPEN
                self._opened_at = self.clock()


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(provider: str) -> CircuitBreaker:
    """The process's breaker for one provider, made on first use from the settings."""
    with _breakers_lock:
        breaker = _breakers.get(provider)
        if breaker is None:
            breaker = _breakers[provider] = CircuitBreaker(
                failures=settings.SMS_BREAKER_FAILURES, cooloff=settings.SMS_BREAKER_COOLOFF
            )
        return breaker


def breakers_reset() -> None:
    """Forget every breaker (tests; a settings change)."""
    with _breakers_lock:
        _breakers.clear()
