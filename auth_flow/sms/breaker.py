"""A per-process circuit breaker: a dead provider fails fast instead of holding threads.

Closed: calls pass; `failures` consecutive failures open it. Open: calls fail at
once until `cooloff` seconds have passed. Half-open: one trial call passes (the
others still fail fast); its success closes the circuit, its failure opens it for
another cool-off. A trial that never reports (its thread died, or a bug skipped
the report) is given up after `trial_timeout` seconds and the next caller becomes
the trial: the circuit can never stay half-open for good. The caller reports every
outcome in one place (auth_flow/sms/chain.py, `provider_send`): anything but a
sent message or a refused number, any exception included, is a failure.

Why not pybreaker (1.4.1, the well-kept library): its `CircuitBreaker.call` holds
one lock for the whole guarded call, so the sends through one provider run one
at a time per process. Measured: 20 threads each sending for 0.2 s took 4.01 s
through `pybreaker.CircuitBreaker.call` and 0.20 s without it; a burst of 300
code requests of 1-2 s each would take minutes. Its half-open state also lets
every waiting call through (10 of 10 in the same measurement), not one trial.

Per process on purpose: each process learns on its own that a provider is down
within `failures` requests, and no shared store has to be up for the breaker to
work. Thread-safe: gunicorn's threaded workers call it from hundreds of threads;
the lock is held for a few attribute updates, never during a send.
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
        self,
        *,
        failures: int,
        cooloff: float,
        trial_timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = failures
        self.cooloff = cooloff
        self.trial_timeout = trial_timeout
        self.clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at = 0.0
        self._trial_started = 0.0
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
            now = self.clock()
            if self._state == self.HALF_OPEN:
                if now - self._trial_started < self.trial_timeout:
                    # A trial is out; until it reports, others keep failing fast.
                    raise CircuitOpen(max(1.0, self.trial_timeout - (now - self._trial_started)))
                # The trial never reported: it is lost, this caller is the next one.
                self._trial_started = now
                return
            waited = now - self._opened_at
            if waited >= self.cooloff:
                self._state = self.HALF_OPEN
                self._trial_started = now
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
    """The process's breaker for one provider, made on first use from the settings.

    A trial is given up once it has had a whole send's time (SMS_TIMEOUT is a wall
    deadline) and as much again."""
    with _breakers_lock:
        breaker = _breakers.get(provider)
        if breaker is None:
            breaker = _breakers[provider] = CircuitBreaker(
                failures=settings.SMS_BREAKER_FAILURES,
                cooloff=settings.SMS_BREAKER_COOLOFF,
                trial_timeout=2 * settings.SMS_TIMEOUT + 1,
            )
        return breaker


def breakers_reset() -> None:
    """Forget every breaker (tests; a settings change)."""
    with _breakers_lock:
        _breakers.clear()
