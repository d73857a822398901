"""Admission under `make serve` (core/gunicorn_worker.py): requests take turns.

One worker, one turn, so the order is visible: a code request gives its turn back
for its send, and clients stuck halfway through their requests take no turn.
"""

import socket
import threading
import time

import pytest

from tests.deploy.conftest import DEMO_SERVE_ENV, Browser, Server, post_code

pytestmark = pytest.mark.postgres


def _code_request(server: Server, phone: str) -> tuple[int, float]:
    started = time.monotonic()
    status, _ = post_code(server, phone)
    return status, time.monotonic() - started


def _get(server: Server, path: str) -> tuple[int, float]:
    started = time.monotonic()
    status = Browser().request(server, "GET", path).status
    return status, time.monotonic() - started


def test_code_requests_give_their_turn_back_for_the_send(serve, serve_database_url):
    server = serve(
        DATABASE_URL=serve_database_url,
        **{**DEMO_SERVE_ENV, "OTP_SEND_DELAY": "1.0,1.0"},
        WEB_ADMISSION_SLOTS="1",
        WEB_ADMISSION_WAIT="10",
    )
    answers: list[tuple[int, float]] = []

    def ask(number: int) -> None:
        answers.append(_code_request(server, f"+7900555{number:04d}"))

    threads = [threading.Thread(target=ask, args=(number,)) for number in range(3)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    wall = time.monotonic() - started

    assert [status for status, _ in answers] == [202, 202, 202]
    # The three 1 s sends overlap: holding the one turn through its send, each
    # request would wait for the one before it (3 s and more).
    assert wall < 2.2, answers


def test_clients_stuck_halfway_through_their_requests_hold_up_nobody(serve, serve_database_url):
    server = serve(
        DATABASE_URL=serve_database_url,
        **DEMO_SERVE_ENV,
        WEB_ADMISSION_SLOTS="1",
        WEB_ADMISSION_WAIT="10",
    )
    # Requests begun and never finished: none takes the one turn. (If each did, for the
    # 0.2 s a turn lasts, the ten would hold up the write below for two seconds.)
    stuck = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(10)]
    try:
        for number, sock in enumerate(stuck):
            sock.sendall(b"POST /api/v1/auth/code/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"[: 5 + number])
        time.sleep(0.1)
        read_status, read_took = _get(server, "/healthz")
        write_status, write_took = _code_request(server, "+79005559999")
    finally:
        for sock in stuck:
            sock.close()

    assert read_status == 200
    assert write_status == 202
    assert write_took < 0.8, write_took
    assert read_took < 0.8, read_took
