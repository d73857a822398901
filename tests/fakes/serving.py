"""What every fake provider shares: a threaded HTTP server on a free loopback port."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LoopbackServer:
    """Serves a handler class on 127.0.0.1; a context manager; `url` once started.

    The fakes set `_stopping` (an Event) and `_server` (None) in their __post_init__.
    """

    _stopping: threading.Event
    _server: ThreadingHTTPServer | None

    def _serve(self, handler: type[BaseHTTPRequestHandler], *, backlog: int = 0) -> Self:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler, bind_and_activate=False)
        server.daemon_threads = True
        if backlog:
            server.request_queue_size = backlog
        server.server_bind()
        server.server_activate()
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"
