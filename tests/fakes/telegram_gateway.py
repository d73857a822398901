"""A local fake of Telegram's Gateway API (gatewayapi.telegram.org), over real HTTP.

Tests point TELEGRAM_GATEWAY_BASE_URL at it; the real client code runs. It speaks
the Gateway's shape: `POST /sendVerificationMessage` with `Authorization: Bearer
<token>` and a JSON (or form) body; the answer is `{"ok": true, "result":
RequestStatus}` or `{"ok": false, "error": "..."}`. It can also post a delivery
report to the request's `callback_url`, signed as the Gateway signs them.

Behaviours, as in tests/fakes/sms_servers.py (`plan` for the next requests, then
`default`): "ok"; "not_on_telegram" (the number has no Telegram account);
"token" (ACCESS_TOKEN_INVALID); "balance" (BALANCE_NOT_ENOUGH); "http500";
"hang" (no answer until the server stops); "notjson" (a 200 whose body is HTML);
"oddbody" (`{"ok": true, "result": "oops"}`); "deep" (JSON nested past Python's
recursion limit).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs
from urllib.request import Request, urlopen

from tests.fakes.serving import LoopbackServer


def report_signature(*, token: str, timestamp: str, body: bytes) -> str:
    """What the Gateway puts in X-Request-Signature: HMAC-SHA256 over
    `<timestamp>\\n<body>`, keyed with the SHA-256 of the API token, in hex."""
    key = hashlib.sha256(token.encode()).digest()
    return hmac.new(key, timestamp.encode() + b"\n" + body, hashlib.sha256).hexdigest()


@dataclass
class Sent:
    path: str
    params: dict
    headers: dict[str, str]


@dataclass
class FakeTelegramGateway(LoopbackServer):
    token: str = "test-gateway-token"
    default: str = "ok"
    plan: list[str] = field(default_factory=list)
    received: list[Sent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> FakeTelegramGateway:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    params = json.loads(raw or b"{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                fake._answer(self, params)

            def log_message(self, *args: object) -> None:
                pass

        return self._serve(Handler)

    # ------------------------------------------------------------ delivery reports
    def report(self, *, request_id: str, status: str, refunded: bool = False) -> int:
        """Post a delivery report for one request to its callback_url, as the Gateway does."""
        [sent] = [s for s in self.received if s.params.get("_request_id") == request_id]
        body = json.dumps(
            {
                "request_id": request_id,
                "phone_number": sent.params["phone_number"],
                "request_cost": 0.01,
                "is_refunded": refunded,
                "delivery_status": {"status": status, "updated_at": int(time.time())},
            }
        ).encode()
        timestamp = str(int(time.time()))
        request = Request(  # noqa: S310 - a loopback URL the test configured
            sent.params["callback_url"],
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Request-Timestamp": timestamp,
                "X-Request-Signature": report_signature(
                    token=self.token, timestamp=timestamp, body=body
                ),
            },
        )
        with urlopen(request, timeout=5) as answer:  # noqa: S310
            return answer.status

    # ------------------------------------------------------------ answers
    def _answer(self, handler: BaseHTTPRequestHandler, params: dict) -> None:
        with self._lock:
            sent = Sent(handler.path, params, dict(handler.headers))
            self.received.append(sent)
            behaviour = self.plan.pop(0) if self.plan else self.default
        if behaviour == "hang":
            self._stopping.wait(120)
            return
        if behaviour == "http500":
            self._send(handler, 500, b'{"ok": false, "error": "INTERNAL"}')
            return
        if behaviour == "notjson":
            self._send(handler, 200, b"<html>gateway timeout</html>", "text/html")
            return
        if behaviour == "deep":
            self._send(
                handler, 200, b'{"ok": true, "result": ' + b"[" * 100000 + b"]" * 100000 + b"}"
            )
            return
        if behaviour == "oddbody":
            self._json(handler, {"ok": True, "result": "oops"})
            return
        if (
            handler.headers.get("Authorization", "") != f"Bearer {self.token}"
            or behaviour == "token"
        ):
            self._json(handler, {"ok": False, "error": "ACCESS_TOKEN_INVALID"})
            return
        if handler.path.lstrip("/").lower() != "sendverificationmessage":
            self._json(handler, {"ok": False, "error": "METHOD_NOT_FOUND"})
            return
        if behaviour == "not_on_telegram":
            self._json(handler, {"ok": False, "error": "PHONE_NUMBER_NOT_FOUND"})
            return
        if behaviour == "balance":
            self._json(handler, {"ok": False, "error": "BALANCE_NOT_ENOUGH"})
            return
        request_id = f"{next(self._ids):016x}"
        params["_request_id"] = request_id
        result = {
            "request_id": request_id,
            "phone_number": params.get("phone_number"),
            "request_cost": 0.01,
            "remaining_balance": 9.99,
            "delivery_status": {"status": "sent", "updated_at": int(time.time())},
        }
        self._json(handler, {"ok": True, "result": result})

    def _json(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        self._send(handler, 200, json.dumps(body).encode())

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        data: bytes,
        content_type: str = "application/json",
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
