"""Admission: a web worker lets a few requests work at once, in the order they came.

Why. A worker process runs one thread of Python at a time (the GIL). In a burst of
300 code requests each worker had ~150 threads runnable at once, sharing the GIL
round-robin, so every request finished its work before the send at about the same
moment, the end of the whole wave (measured: the median send started 0.5 s into a
300 burst, the last 0.65 s), and each GIL hand-over among 150 threads cost CPU of
its own. With a few turns handed out in arrival order, the first requests reach their
1-2 s send first and the last no later than before: p99 and wall time fall, and so
does the workers' CPU (docs/benchmarks.md, "Admission").

How. `WEB_ADMISSION_SLOTS` (4) turns per process; 0 turns admission off. A request
takes a turn once all of it has arrived, before gunicorn parses it
(core/gunicorn_worker.py), and gives it back when it ends, or earlier with
`admission_leave()` before a long wait that needs no CPU (the code request's send,
a wait for a pooled connection, a webhook POST). A turn
given back goes to the oldest waiter. Nothing waits for long: a turn lasts HOLD
(0.2 s) at most, then goes to the next in line while its request carries on without
one; a write waits at most `WEB_ADMISSION_WAIT` (1 s), a read (GET/HEAD: pages,
/healthz, the referrals poll) 0.1 s, then goes in without a turn. So a holder stuck
on something slow (a database that does not answer, a client slow to read its answer)
costs the next in line 0.2 s, never the worker.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

# A read waits for its turn this long at most: pages and health probes stay within
# their 150 ms during a burst of writes, yet still queue behind them when a turn comes
# soon (measured: letting reads skip the queue entirely made the pages faster but
# gave the writes' gain back, as the reads then used the CPU the writes' turns freed).
READ_WAIT = 0.1


# A turn lasts this long at most: a request still working after it carries on without
# one, and its turn goes to the next in line. A code request's work with a turn takes
# 10-20 ms, a page's 2-5; one that holds longer is waiting on something (a database
# that does not answer behind PgBouncer, a slow client), and holding its turn through
# that would make the next in line late for its own 503 (the outage rule: ~2 s).
# Measured (300 bursts, 10 rounds each, one run): 0.1 s p99 2.49 s, 0.2 s 2.45 s,
# 0.3 s 2.45 s; the outage through PgBouncer then answers within ~2.2 s.
HOLD = 0.2


@dataclass(eq=False)
class Turn:
    since: float  # time.monotonic() when it was handed out
    over: bool = False  # given back, or lasted HOLD and went to the next in line


@dataclass(eq=False)
class _Waiter:
    # Held until a turn is handed over: a hand-over wakes exactly the oldest waiter
    # (a Condition would wake an arbitrary one).
    ready: threading.Lock = field(default_factory=threading.Lock)
    turn: Turn | None = None


class Admission:
    """`slots` turns, handed to waiters first come, first served, each for `hold`
    seconds at most."""

    def __init__(self, slots: int, *, hold: float = HOLD) -> None:
        if slots < 1:
            raise ValueError("admission needs at least one slot")
        self._free = slots
        self._hold = hold
        self._lock = threading.Lock()
        self._held: deque[Turn] = deque()  # in the order handed out: the oldest first
        self._waiting: deque[_Waiter] = deque()

    def enter(self, *, wait: float) -> Turn | None:
        """Take a turn, waiting at most `wait` seconds; None if none came in time
        (the caller goes on without one)."""
        deadline = time.monotonic() + wait
        with self._lock:
            # Read under the lock: a turn stamped with a time read before a wait for
            # the lock could be older than one handed out meanwhile, and _held must
            # stay oldest first (its head is the next to run out).
            now = time.monotonic()
            self._expire(now)
            if self._free and not self._waiting:
                self._free -= 1
                return self._turn(now)
            waiter = _Waiter()
            waiter.ready.acquire()
            self._waiting.append(waiter)
        while True:
            with self._lock:
                due = self._held[0].since + self._hold if self._held else deadline
            if waiter.ready.acquire(timeout=max(min(due, deadline) - time.monotonic(), 0)):
                return waiter.turn
            with self._lock:
                now = time.monotonic()
                self._expire(now)  # may hand this waiter the turn of one that lasted
                if waiter.turn is not None:
                    return waiter.turn
                if now >= deadline:
                    self._waiting.remove(waiter)
                    return None

    def leave(self, turn: Turn) -> None:
        """Give `turn` back: to the oldest waiter, else to the free ones. Nothing if
        it is over already."""
        with self._lock:
            if turn.over:
                return
            turn.over = True
            self._held.remove(turn)
            self._give(time.monotonic())

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def _turn(self, now: float) -> Turn:
        turn = Turn(since=now)
        self._held.append(turn)
        return turn

    def _give(self, now: float) -> None:
        if self._waiting:
            waiter = self._waiting.popleft()
            waiter.turn = self._turn(now)
            waiter.ready.release()
        else:
            self._free += 1

    def _expire(self, now: float) -> None:
        while self._held and now - self._held[0].since >= self._hold:
            self._held.popleft().over = True
            self._give(now)


def admission_settings(environ: Mapping[str, str] = os.environ) -> tuple[int, float]:
    """(slots, wait) from WEB_ADMISSION_SLOTS (4) and WEB_ADMISSION_WAIT (1.0 s), or
    a ValueError naming the variable: gunicorn.conf.py reads them at start-up."""
    raw_slots = environ.get("WEB_ADMISSION_SLOTS", "").strip() or "4"
    raw_wait = environ.get("WEB_ADMISSION_WAIT", "").strip() or "1.0"
    try:
        slots = int(raw_slots)
    except ValueError:
        slots = -1
    if slots < 0:
        raise ValueError(
            f"WEB_ADMISSION_SLOTS must be a whole number >= 0 (0 turns admission off),"
            f" not {raw_slots!r}"
        )
    try:
        wait = float(raw_wait)
    except ValueError:
        wait = -1.0
    if not 0 < wait <= 30:
        raise ValueError(
            f"WEB_ADMISSION_WAIT must be seconds, more than 0 and at most 30, not {raw_wait!r}"
        )
    return slots, wait


_process: Admission | None = None
_wait = 1.0
_holding = threading.local()


def admission_install(*, slots: int, wait: float) -> None:
    """This process's admission (a gunicorn worker's, once forked); 0 slots: none."""
    global _process, _wait  # noqa: PLW0603 - one per process, set once at start-up
    _process = Admission(slots) if slots > 0 else None
    _wait = wait


def admission_enter(*, read: bool) -> None:
    """Take this thread's turn (reads wait at most READ_WAIT); a no-op without admission."""
    if _process is None:
        return
    _holding.turn = _process.enter(wait=min(_wait, READ_WAIT) if read else _wait)


def admission_held() -> bool:
    """Whether this thread holds a turn (a check that costs nothing, for callers
    whose own test for a long wait does)."""
    return getattr(_holding, "turn", None) is not None


def admission_leave() -> None:
    """Give this thread's turn back, if it holds one: at the end of a request, or
    before a long wait that needs no CPU. Safe to call any number of times."""
    turn = getattr(_holding, "turn", None)
    if turn is not None:
        _holding.turn = None
        _process.leave(turn)  # type: ignore[union-attr] - held only while installed
