"""A local webhook receiver on 127.0.0.1: real HTTP, records what it was sent.

Tests and bench/webhooks.py start one and point endpoints at `receiver.url`.
`plan` is a list of answers for the next requests, then `default`: an int (the
status code to answer), "hang" (hold the request until `release()` or `stop()`),
"redirect" (a 302 to `/elsewhere`), "big" (a 2 MB body). Every request is kept
in `received` with its headers (lower-cased names), body and arrival time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() on arrival


@dataclass
class WebhookReceiver:
    default: int | str = 200
    plan: list[int | str] = field(default_factory=list)
    received: list[Delivery] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver._answer(self, body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
        server.daemon_threads = True
        server.request_queue_size = 1024
        server.server_bind()
        server.server_activate()
        self._server = server
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def release(self) -> None:
        """Let held ("hang") requests go (they are answered 200)."""
        self._released.set()

    def _answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        with self._lock:
            behaviour = self.plan.pop(0) if self.plan else self.default
            self.received.append(
                Delivery(
                    path=handler.path,
                    headers={key.lower(): value for key, value in handler.headers.items()},
                    body=body,
                    at=time.time(),
                )
            )
            self._arrived.notify_all()
        status, payload, extra = 200, b"ok", {}
        if behaviour == "hang":
            self._released.wait()
        elif behaviour == "redirect":
            status, extra = 302, {"Location": "/elsewhere"}
        elif behaviour == "big":
            payload = b"x" * (2 * 1024 * 1024)
        elif isinstance(behaviour, int):
            status, payload = behaviour, f"answer {behaviour}".encode()
        try:
            handler.send_response(status)
            for key, value in extra.items():
                handler.send_header(key, value)
            handler.send_header("Content-Type", "text/plain")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            pass  # the sender gave up (timeout, killed worker)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Delivery]:
        """Block until `count` requests have arrived (or the timeout); returns them all."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
            return list(self.received)
