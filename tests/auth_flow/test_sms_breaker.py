"""The circuit breaker on its own, with a clock the test moves."""

import threading

from auth_flow.sms.breaker import CircuitBreaker, CircuitOpen


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_consecutive_failures_and_half_opens_after_the_cooloff():
    clock = Clock()
    breaker = CircuitBreaker(failures=3, cooloff=30, trial_timeout=60, clock=clock)
    for _ in range(2):
        breaker.before_call()
        breaker.failed()
    breaker.before_call()
    breaker.succeeded()  # a success resets the count
    for _ in range(3):
        breaker.before_call()
        breaker.failed()
    assert breaker.state == "open"
    clock.now = 29
    try:
        breaker.before_call()
    except CircuitOpen as error:
        assert error.retry_after == 1
    else:
        raise AssertionError("an open circuit let a call through")
    clock.now = 30
    assert breaker.state == "half-open"
    breaker.before_call()  # the trial
    breaker.failed()
    assert breaker.state == "open"  # one failed trial re-opens it
    clock.now = 60
    breaker.before_call()
    breaker.succeeded()
    assert breaker.state == "closed"


def test_half_open_lets_exactly_one_trial_through_among_many_threads():
    clock = Clock()
    breaker = CircuitBreaker(failures=1, cooloff=10, trial_timeout=60, clock=clock)
    breaker.failed()
    clock.now = 10
    passed = []
    barrier = threading.Barrier(50)

    def call() -> None:
        barrier.wait()
        try:
            breaker.before_call()
        except CircuitOpen:
            return
        passed.append(1)

    threads = [threading.Thread(target=call) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(passed) == 1


def test_a_trial_that_never_reports_is_given_up_after_the_trial_timeout():
    clock = Clock()
    breaker = CircuitBreaker(failures=1, cooloff=10, trial_timeout=12, clock=clock)
    breaker.failed()
    clock.now = 10
    breaker.before_call()  # the trial: its thread dies, nothing reports
    clock.now = 21
    try:
        breaker.before_call()
    except CircuitOpen as error:
        assert error.retry_after == 1
    else:
        raise AssertionError("a second trial while the first may still report")
    clock.now = 22
    breaker.before_call()  # the lost trial is given up: this is the next one
    breaker.succeeded()
    assert breaker.state == "closed"
