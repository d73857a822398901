"""Which waiting requests take a turn (core/gunicorn_worker.py): only whole ones."""

import socket

import pytest

from core.gunicorn_worker import request_waiting

BODY = b'{"phone": "+79001234567"}'
CODE_REQUEST = (
    b"POST /api/v1/auth/code/ HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)


@pytest.fixture
def pair():
    server, client = socket.socketpair()
    yield server, client
    server.close()
    client.close()


@pytest.mark.parametrize(
    ("sent", "waiting"),
    [
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "read"),
        (b"HEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\n", "read"),
        (CODE_REQUEST, "write"),
        (b"POST /auth/phone/ HTTP/1.1\r\nHost: a\r\n\r\n", "write"),
        # Still coming: no turn, so a slow client cannot hold one the others wait for.
        (b"P", None),
        (b"POST /api/v1/auth/code/ HTTP/1.1\r\nHost: a\r\n", None),
        (b"POST /x HTTP/1.1\r\nHost: a\r\ncontent-length: 100\r\n\r\n{}", None),
        (b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}", None),
    ],
)
def test_only_a_request_that_has_all_arrived_takes_a_turn(pair, sent, waiting):
    server, client = pair
    client.sendall(sent)
    assert request_waiting(server) == waiting
    # Peeked, not taken: gunicorn still reads all of it.
    assert server.recv(65536) == sent


def test_nothing_sent_or_a_closed_connection_takes_no_turn(pair):
    server, client = pair
    assert request_waiting(server) is None  # and it did not block
    client.close()
    assert request_waiting(server) is None
