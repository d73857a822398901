"""Gunicorn's threaded worker with admission (core/admission.py): requests take turns.

site_config/gunicorn.conf.py names this class. The turn is taken once the client's
first bytes are there (a connection that sends nothing holds no turn; gunicorn defers
it to its poller after 5 s as before) and before gunicorn parses the request, so the
parsing queues too; it is given back when gunicorn is done with the request.
"""

from __future__ import annotations

import socket

from gunicorn.workers import gthread

from core.admission import (
    admission_enter,
    admission_install,
    admission_leave,
    admission_settings,
)

_READS = (b"GET ", b"HEAD ")


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
        admission_enter(read=_is_read(conn.sock))
        try:
            return super().handle(conn)
        finally:
            admission_leave()


def _is_read(sock: socket.socket) -> bool:
    """Whether the request waiting on `sock` is a GET or HEAD, by peeking at its first
    bytes without taking them (never blocking: bytes gunicorn already read ahead, or a
    TLS socket, read as "not a read" and wait as a write would)."""
    try:
        head = sock.recv(5, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (OSError, ValueError):
        return False
    return head.startswith(_READS)
