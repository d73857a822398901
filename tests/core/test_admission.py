"""Admission (core/admission.py): turns in arrival order, bounded waits, one per holder."""

import threading
import time

import pytest

from core import admission
from core.admission import Admission, admission_settings


def _wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_turns_go_to_the_waiters_in_the_order_they_came():
    gate = Admission(1, hold=30)
    first = gate.enter(wait=1)
    served: list[int] = []

    def wait_turn(number: int) -> None:
        turn = gate.enter(wait=5)
        assert turn is not None
        served.append(number)
        gate.leave(turn)

    threads = []
    for number in range(8):
        thread = threading.Thread(target=wait_turn, args=(number,))
        thread.start()
        threads.append(thread)
        _wait_until(lambda n=number: gate.waiting == n + 1)
    gate.leave(first)
    for thread in threads:
        thread.join(timeout=5)
    assert served == list(range(8))


def test_no_more_requests_than_slots_hold_a_turn_at_once():
    gate = Admission(3, hold=30)
    holding, most = 0, 0
    count = threading.Lock()

    def work() -> None:
        nonlocal holding, most
        for _ in range(20):
            turn = gate.enter(wait=10)
            assert turn is not None
            with count:
                holding += 1
                most = max(most, holding)
            time.sleep(0.0005)
            with count:
                holding -= 1
            gate.leave(turn)

    threads = [threading.Thread(target=work) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert most == 3
    # Every turn came back: three can enter at once without waiting, a fourth cannot.
    assert [gate.enter(wait=0.01) is not None for _ in range(4)] == [True, True, True, False]


def test_a_waiter_goes_in_without_a_turn_once_its_wait_is_over():
    gate = Admission(1, hold=30)
    held = gate.enter(wait=1)
    started = time.monotonic()
    assert gate.enter(wait=0.2) is None
    assert 0.15 < time.monotonic() - started < 2
    assert gate.waiting == 0
    gate.leave(held)
    # The one turn is back, and only one: the timed-out waiter took none.
    assert gate.enter(wait=0.01) is not None
    assert gate.enter(wait=0.01) is None


def test_a_turn_held_too_long_goes_to_the_next_in_line():
    # A holder stuck on something slow (a client sending byte by byte, a database
    # that does not answer) costs the next in line the hold, never its whole wait.
    gate = Admission(1, hold=0.2)
    stuck = gate.enter(wait=1)
    started = time.monotonic()
    turn = gate.enter(wait=5)
    waited = time.monotonic() - started
    assert turn is not None
    assert stuck.over
    assert 0.15 < waited < 1.5
    # The stuck request ends at last: its turn had gone on, it gives nothing back.
    gate.leave(stuck)
    gate.leave(turn)
    assert gate.enter(wait=0.01) is not None
    assert gate.enter(wait=0.01) is None


@pytest.fixture
def one_turn():
    admission.admission_install(slots=1, wait=5.0)
    yield
    admission.admission_leave()
    admission.admission_install(slots=0, wait=1.0)


def test_leaving_twice_gives_back_one_turn(one_turn):
    admission.admission_enter(read=False)
    assert admission.admission_held()
    admission.admission_leave()
    assert not admission.admission_held()
    admission.admission_leave()  # before the send and again at the request's end
    gate = admission._process
    assert gate.enter(wait=0.01) is not None
    assert gate.enter(wait=0.01) is None


def test_a_read_waits_at_most_a_tenth_of_a_second_for_its_turn(one_turn):
    admission._process._hold = 30  # the holder's turn does not run out here
    holder = admission._process
    held = holder.enter(wait=1)  # another thread's turn, held
    started = time.monotonic()
    admission.admission_enter(read=True)
    read_waited = time.monotonic() - started
    admission.admission_leave()  # held none: gives nothing back
    started = time.monotonic()
    waiter = threading.Thread(target=admission.admission_enter, kwargs={"read": False})
    waiter.start()
    waiter.join(timeout=0.5)
    # A write waits longer (WEB_ADMISSION_WAIT, 5 s here): still waiting.
    assert waiter.is_alive()
    holder.leave(held)
    waiter.join(timeout=5)
    assert 0.05 < read_waited < 0.5


def test_without_admission_entering_and_leaving_do_nothing():
    admission.admission_install(slots=0, wait=1.0)
    admission.admission_enter(read=False)
    admission.admission_leave()
    assert admission._process is None


def test_settings_default_to_four_turns_and_a_second():
    assert admission_settings({}) == (4, 1.0)
    assert admission_settings({"WEB_ADMISSION_SLOTS": "0"}) == (0, 1.0)
    assert admission_settings({"WEB_ADMISSION_SLOTS": "8", "WEB_ADMISSION_WAIT": "0.5"}) == (8, 0.5)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"WEB_ADMISSION_SLOTS": "-1"}, "WEB_ADMISSION_SLOTS"),
        ({"WEB_ADMISSION_SLOTS": "four"}, "WEB_ADMISSION_SLOTS"),
        ({"WEB_ADMISSION_WAIT": "0"}, "WEB_ADMISSION_WAIT"),
        ({"WEB_ADMISSION_WAIT": "soon"}, "WEB_ADMISSION_WAIT"),
        ({"WEB_ADMISSION_WAIT": "60"}, "WEB_ADMISSION_WAIT"),
    ],
)
def test_a_bad_setting_is_refused_by_name(environ, named):
    with pytest.raises(ValueError, match=named):
        admission_settings(environ)
