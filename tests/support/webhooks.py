"""A real HTTP server on 127.0.0.1 that takes POSTs, and the webhook receiver built on it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextmanager
def serve_posts(answer: Callable[[dict[str, str], bytes], int]) -> Iterator[str]:
    """Serve in a thread; every POST's headers and body go to ``answer``, which gives the status.

    Yields the server's ``/hook`` URL; the server is shut down afterwards.
    """

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = answer(dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Receiver:
    """A webhook receiver: every request it got; the first ``fail_first`` get ``fail_status``."""

    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    fail_first: int = 0
    fail_status: int = 503

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        self.requests.append((headers, body))
        return self.fail_status if len(self.requests) <= self.fail_first else 204
