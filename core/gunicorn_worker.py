"""Gunicorn's threaded worker with admission (core/admission.py): requests take turns.

site_config/gunicorn.conf.py names this class. A request takes a turn only once all
of it is in the socket (its headers and the body they announce, peeked at, not
read), and before gunicorn parses it, so the parsing queues too; the turn is given
back when gunicorn is done with the request. A client still sending (slowly, on
purpose or not) takes no turn: it is served as plain gthread serves it, and cannot
hold a turn the others wait for. Nor can bytes gunicorn already read ahead, a
connection closed at once (a load balancer's check) or a chunked body: no turn.
"""

from __future__ import annotations

import re
import socket

from gunicorn.workers import gthread

from core.admission import (
    admission_enter,
    admission_install,
    admission_leave,
    admission_settings,
)

_READS = (b"GET ", b"HEAD ")
# The most of a waiting request looked at: a request line (limit_request_line 4094)
# and ordinary headers fit; a request larger than this is served without a turn.
PEEK_BYTES = 16384
_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:", re.IGNORECASE)


class ThreadWorker(gthread.ThreadWorker):
    def init_process(self) -> None:
        # In the forked worker: each process hands out its own turns.
        slots, wait = admission_settings()
        admission_install(slots=slots, wait=wait)
        super().init_process()

    def handle(self, conn: gthread.TConn) -> object:
        # As gunicorn's own handle() does first; it then skips its wait (data_ready).
        fresh = not conn.initialized and not conn.data_ready
        if fresh and not conn.wait_for_data(gthread.DEFAULT_WORKER_DATA_TIMEOUT):
            return gthread._DEFER  # noqa: SLF001 - gunicorn's "back to the poller"
        waiting = request_waiting(conn.sock)
        if waiting is None:
            return super().handle(conn)
        admission_enter(read=waiting == "read")
        try:
            return super().handle(conn)
        finally:
            admission_leave()


def request_waiting(sock: socket.socket) -> str | None:
    """Whether a whole request waits in `sock`: "read" (GET, HEAD) or "write"; None
    while any of it is still to come. Peeked at, never taken, never blocking."""
    try:
        data = sock.recv(PEEK_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (OSError, ValueError):
        return None
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = data[:end]
    if head.startswith(_READS):
        return "read"
    if _CHUNKED.search(head):
        return None
    length = _LENGTH.search(head)
    if length and len(data) - end - 4 < int(length.group(1)):
        return None
    return "write"
