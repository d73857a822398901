"""SMS_TIMEOUT as a wall deadline for a whole send, every provider and retry included.

A `requests`/urllib3 timeout applies to each socket operation, not to the request:
a provider that trickles its answer a byte a second never trips it (urllib3's own
`Timeout` documentation says so), and one send held a request 44 s with
SMS_TIMEOUT=5. So a send runs inside `send_deadline(seconds)`: every HTTP
connection the process's session uses within it is watched, and at the deadline
one watchdog thread per process shuts the connection's socket down. The blocked
read returns at once, the attempt fails with a connection error, and
`deadline_passed()` tells the provider code that it was the deadline (the request
went out, no answer in time: the outcome is unknown).

A deadline already in force (the chain set one) is kept by a nested
`send_deadline`: the chain's providers share one wall deadline.
"""

import contextvars
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class _Scope:
    """One send: its deadline and the connections it used."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.connections: list[HTTPConnection] = []
        self.expired = False
        self.done = False
        self.watched = False


_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(
    "sms_send_deadline", default=None
)


class _Watchdog:
    """One thread per process that cuts the connections of sends past their deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Scope]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def attach(self, connection: HTTPConnection) -> None:
        scope = _scope.get()
        if scope is None:
            return
        with self._cond:
            if scope.done:
                return
            scope.connections.append(connection)
            if scope.expired:
                _cut(connection)
                return
            if not scope.watched:
                scope.watched = True
                heapq.heappush(self._heap, (scope.deadline, next(self._order), scope))
                if self._thread is None or not self._thread.is_alive():
                    # Made on first use in each process (gunicorn forks its workers).
                    self._thread = threading.Thread(
                        target=self._run, name="sms-deadline", daemon=True
                    )
                    self._thread.start()
                self._cond.notify()

    def finish(self, scope: _Scope) -> None:
        with self._cond:
            scope.done = True
            scope.connections.clear()

    def _run(self) -> None:
        with self._cond:
            while True:
                if not self._heap:
                    self._cond.wait()
                    continue
                deadline, _, scope = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                if scope.done:
                    continue
                scope.expired = True
                for connection in scope.connections:
                    _cut(connection)


def _cut(connection: HTTPConnection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return
    # socket.socket's own shutdown, also for a TLS socket: the blocked read in the
    # sending thread sees the end of the stream and raises. OSError: already closed.
    with suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


_watchdog = _Watchdog()


@contextmanager
def send_deadline(seconds: float) -> Iterator[float]:
    """Run a send with a wall deadline `seconds` from now (or the one in force)."""
    current = _scope.get()
    if current is not None:
        yield current.deadline
        return
    scope = _Scope(time.monotonic() + seconds)
    token = _scope.set(scope)
    try:
        yield scope.deadline
    finally:
        _scope.reset(token)
        _watchdog.finish(scope)


def time_left() -> float | None:
    """Seconds left of the send's deadline (None outside a send)."""
    scope = _scope.get()
    return None if scope is None else scope.deadline - time.monotonic()


def deadline_passed() -> bool:
    """Whether the send in progress has reached its deadline."""
    scope = _scope.get()
    return scope is not None and (scope.expired or time.monotonic() >= scope.deadline)


class _Watched:
    """Mixed into urllib3's connections: each request is watched by its send's deadline."""

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _watchdog.attach(self)  # type: ignore[arg-type]

    def request(self, *args: object, **kwargs: object) -> None:
        _watchdog.attach(self)  # type: ignore[arg-type]
        super().request(*args, **kwargs)  # type: ignore[misc]


class WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class WatchedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


POOL_CLASSES = {"http": WatchedHTTPConnectionPool, "https": WatchedHTTPSConnectionPool}
