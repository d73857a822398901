"""Local fake SMS providers speaking SMS.ru's and Twilio's real HTTP APIs.

Tests and `bench/send_code.py --provider smsru` start one on 127.0.0.1 and point the
backend at it (SMSRU_BASE_URL, TWILIO_BASE_URL): the real client code runs over
real HTTP, nothing is mocked. Each server records what it received and answers
as told: `plan` is a list of behaviours for the next requests, then `default`.

Behaviours: "ok"; "http500" (a 5xx); "hang" (no answer until the server stops);
"refuse" (the provider refuses the number); "auth" (bad credentials); or an int:
an SMS.ru status code for the number. Twilio only: "problem400" / "problem503" (an
RFC 9457 problem body, which the SDK raises TwilioServiceException for) and
"notjson" (a 201 whose body is a proxy's HTML page). SMS.ru only, odd 200 answers:
"oops" (`"sms": "oops"`), "overflow" (`"status_code": 1e999`), "deep" (JSON nested
deeper than any parser recurses). Either: "trickle" (a whole "ok" answer, status
line first, one byte every `trickle` seconds), "late" (takes the message, answers
"ok" only after `late` seconds). `delay` = (min, max) seconds before each answer,
like a real gateway's 1-2 s.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from tests.fakes.serving import LoopbackServer

# 200 answers of SMS.ru's shape that no careful parser expects.
ODD_SMSRU = {
    "oops": b'{"status": "OK", "status_code": 100, "sms": "oops"}',
    "overflow": b'{"status": "OK", "status_code": 1e999, "sms": {}}',
    "deep": b"[" * 100_000 + b"]" * 100_000,
}


class _Trickle:
    """Buffers what the handler writes, then sends it one byte at a time."""

    def __init__(self, wfile: object, interval: float, stopping: threading.Event) -> None:
        self.wfile, self.interval, self.stopping = wfile, interval, stopping
        self.pending = b""

    def write(self, data: bytes) -> int:
        self.pending += bytes(data)
        self.flush()
        return len(data)

    def flush(self) -> None:
        while self.pending and not self.stopping.is_set():
            byte, self.pending = self.pending[:1], self.pending[1:]
            try:
                self.wfile.write(byte)  # type: ignore[attr-defined]
                self.wfile.flush()  # type: ignore[attr-defined]
            except OSError:
                return  # the client gave up
            self.stopping.wait(self.interval)


@dataclass
class Received:
    path: str
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeSmsServer(LoopbackServer):
    kind: str = "smsru"  # or "twilio"
    default: str | int = "ok"
    plan: list[str | int] = field(default_factory=list)
    delay: tuple[float, float] = (0.0, 0.0)
    trickle: float = 1.0
    late: float = 10.0
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> FakeSmsServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                form = {key: values[0] for key, values in parse_qs(body).items()}
                fake._answer(self, form)

            def log_message(self, *args: object) -> None:
                pass

        return self._serve(Handler, backlog=1024)  # a burst of hundreds connects at once

    # ------------------------------------------------------------ answers
    def _next(self, form: dict[str, str], handler: BaseHTTPRequestHandler) -> str | int:
        with self._lock:
            self.received.append(Received(handler.path, form, dict(handler.headers)))
            return self.plan.pop(0) if self.plan else self.default

    def _answer(self, handler: BaseHTTPRequestHandler, form: dict[str, str]) -> None:
        behaviour = self._next(form, handler)
        low, high = self.delay
        if high > 0:
            time.sleep(random.uniform(low, high))  # noqa: S311 - a simulated wait
        if behaviour == "hang":
            self._stopping.wait(120)
            return
        if behaviour == "late":
            if self._stopping.wait(self.late):
                return
            behaviour = "ok"
        if behaviour == "trickle":
            wfile = handler.wfile
            handler.wfile = _Trickle(wfile, self.trickle, self._stopping)  # type: ignore[assignment]
            try:
                self._answer_as(handler, form, "ok")
            finally:
                handler.wfile = wfile
            return
        self._answer_as(handler, form, behaviour)

    def _answer_as(
        self, handler: BaseHTTPRequestHandler, form: dict[str, str], behaviour: str | int
    ) -> None:
        if behaviour == "http500":
            self._send(handler, 500, {"error": "internal"})
            return
        if self.kind == "twilio":
            self._twilio(handler, form, behaviour)
        else:
            self._smsru(handler, form, behaviour)

    def _smsru(
        self, handler: BaseHTTPRequestHandler, form: dict[str, str], behaviour: object
    ) -> None:
        if handler.path != "/sms/send":
            self._send(handler, 404, {"status": "ERROR", "status_code": 404})
            return
        to = form.get("to", "")
        if behaviour in ODD_SMSRU:
            self._send_raw(handler, 200, ODD_SMSRU[behaviour], "application/json")
            return
        if behaviour == "auth":
            self._send(
                handler, 200, {"status": "ERROR", "status_code": 200, "status_text": "Bad api_id"}
            )
            return
        code = {"ok": 100, "refuse": 207}.get(behaviour, behaviour)  # type: ignore[arg-type]
        if code == 100:
            entry = {
                "status": "OK",
                "status_code": 100,
                "sms_id": f"{next(self._ids):06d}-10000000",
            }
        else:
            entry = {"status": "ERROR", "status_code": code, "status_text": "refused"}
        self._send(
            handler, 200, {"status": "OK", "status_code": 100, "sms": {to: entry}, "balance": 100.0}
        )

    def _twilio(
        self, handler: BaseHTTPRequestHandler, form: dict[str, str], behaviour: object
    ) -> None:
        # POST /2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP Basic auth.
        parts = handler.path.split("/")
        if len(parts) != 5 or parts[1] != "2010-04-01" or parts[4] != "Messages.json":
            self._send(handler, 404, {"code": 20404, "message": "Not found", "status": 404})
            return
        auth = handler.headers.get("Authorization", "")
        user = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":")[0] if auth else ""
        if behaviour == "auth" or user != parts[3]:
            self._send(handler, 401, {"code": 20003, "message": "Authenticate", "status": 401})
            return
        if behaviour in ("problem400", "problem503"):
            status = int(str(behaviour).removeprefix("problem"))
            code, title = (21211, "Invalid 'To'") if status == 400 else (20503, "Unavailable")
            problem = {"type": "about:blank", "title": title, "status": status, "code": code}
            self._send(handler, status, problem)
            return
        if behaviour == "notjson":
            self._send_raw(handler, 201, b"<html>proxy says hi</html>", "text/html")
            return
        if behaviour == "refuse":
            self._send(
                handler,
                400,
                {
                    "code": 21211,
                    "message": "The 'To' number is not a valid phone number.",
                    "status": 400,
                },
            )
            return
        sid = f"SM{next(self._ids):032x}"
        self._send(
            handler,
            201,
            {
                "sid": sid,
                "account_sid": parts[3],
                "to": form.get("To"),
                "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "body": form.get("Body"),
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{parts[3]}/Messages/{sid}.json",
            },
        )

    @classmethod
    def _send(cls, handler: BaseHTTPRequestHandler, status: int, body: dict) -> None:
        cls._send_raw(handler, status, json.dumps(body).encode(), "application/json")

    @staticmethod
    def _send_raw(
        handler: BaseHTTPRequestHandler, status: int, data: bytes, content_type: str
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


def main() -> None:
    """Run one fake in a process of its own (the bench: its threads must not share
    the load generator's interpreter): prints its URL, serves until killed."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--kind", choices=["smsru", "twilio"], default="smsru")
    parser.add_argument("--delay", default="1.0,2.0", help="min,max seconds before answering")
    args = parser.parse_args()
    low, high = (float(part) for part in args.delay.split(","))
    stop = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)  # the serving threads inherit the mask
    with FakeSmsServer(kind=args.kind, delay=(low, high)) as fake:
        print(fake.url, flush=True)
        signal.sigwait(stop)


if __name__ == "__main__":
    main()
