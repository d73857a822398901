"""Admission: a web worker lets a few requests work at once, in the order they came.

Why. A worker process runs one thread of Python at a time (the GIL). In a burst of
300 code requests each worker had ~150 threads runnable at once, sharing the GIL
round-robin, so every request finished its work before the send at about the same
moment, the end of the whole wave (measured: the median send started 0.5 s into a
300 burst, the last 0.65 s), and each GIL hand-over among 150 threads cost CPU of
its own. With a few turns handed out in arrival order, the first requests reach their
1-2 s send first and the last no later than before: p99 and wall time fall, and so
does the workers' CPU (docs/benchmarks.md, "Admission").

How. `ADMISSION_SLOTS` turns per process (`WEB_ADMISSION_SLOTS`, 4; 0 turns admission
off). A request takes a turn before gunicorn parses it (core/gunicorn_worker.py) and
gives it back when it ends, or earlier with `admission_leave()` before a long wait that
uses no CPU (the code request's send). A turn given back goes to the oldest waiter.
Nobody waits for ever: a write waits at most `WEB_ADMISSION_WAIT` (1 s), a read
(GET/HEAD: pages, /healthz, the referrals poll) at most 0.1 s, then goes in without a
turn. So a holder stuck on something slow (a client sending its body byte by byte, a
slow outbound call) costs the others at most that wait, never the worker.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Mapping

# A read waits for its turn this long at most: pages and health probes stay within
# their 150 ms during a burst of writes, yet still queue behind them when a turn comes
# soon (measured: letting reads skip the queue entirely made the pages faster but
# gave the writes' gain back, as the reads then used the CPU the writes' turns freed).
READ_WAIT = 0.1


class Admission:
    """`slots` turns, handed to waiters first come, first served."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("admission needs at least one slot")
        self._free = slots
        self._lock = threading.Lock()
        # One lock per waiter, held until its turn is handed over: a hand-over wakes
        # exactly the oldest waiter (a Condition would wake an arbitrary one).
        self._waiting: deque[threading.Lock] = deque()

    def enter(self, *, wait: float) -> bool:
        """Take a turn, waiting at most `wait` seconds; False if none came in time
        (the caller goes on without one and must not leave())."""
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        if turn.acquire(timeout=wait):
            return True
        with self._lock:
            try:
                self._waiting.remove(turn)
            except ValueError:
                # Handed over between the timeout and this lock: the turn is ours.
                return True
        return False

    def leave(self) -> None:
        """Give a turn back: to the oldest waiter, else to the free ones."""
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._free += 1

    @property
    def waiting(self) -> int:
        return len(self._waiting)


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


def admission_leave() -> None:
    """Give this thread's turn back, if it holds one: at the end of a request, or
    before a long wait that needs no CPU. Safe to call any number of times."""
    if getattr(_holding, "turn", False):
        _holding.turn = False
        _process.leave()  # type: ignore[union-attr] - held only while installed
