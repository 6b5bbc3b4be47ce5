"""An ASGI app served by uvicorn in a daemon thread of this process.

The simulators, the test suite and the benchmarks all serve apps this way (a real socket, a
real HTTP stack, no subprocess): start, wait until uvicorn listens, stop and join.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


class ServerDidNotStart(RuntimeError):
    """uvicorn did not listen in time (the port is taken, or the app failed to load)."""


class ThreadedServer:
    """``app`` on ``host:port`` (0: a free port) in a daemon thread; ``start`` and ``stop`` may
    alternate (a server that went down can be brought back on the same port)."""

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        start_seconds: float = 20,
        stop_seconds: float = 20,
        thread_name: str | None = None,
        **config: Any,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.start_seconds = start_seconds
        self.stop_seconds = stop_seconds
        self.thread_name = thread_name
        self.config = {"log_level": "warning", "lifespan": "off", **config}
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        """Serve until :meth:`stop`; the base URL once uvicorn listens."""
        server = uvicorn.Server(
            uvicorn.Config(self.app, host=self.host, port=self.port, **self.config)
        )
        thread = threading.Thread(target=server.run, name=self.thread_name, daemon=True)
        self.server, self.thread = server, thread
        thread.start()
        deadline = time.monotonic() + self.start_seconds
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ServerDidNotStart(f"uvicorn did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        if not self.port:
            self.port = int(server.servers[0].sockets[0].getsockname()[1])
        return self.url

    def request_stop(self) -> None:
        """Ask the server to exit (safe from inside a request: it does not wait)."""
        if self.server is not None:
            self.server.should_exit = True

    def stop(self) -> None:
        """Ask the server to exit and wait for its thread."""
        self.request_stop()
        if self.thread is not None:
            self.thread.join(timeout=self.stop_seconds)
        self.server = self.thread = None


@contextmanager
def serve_in_thread(app: Any, **options: Any) -> Iterator[str]:
    """Serve ``app`` (see :class:`ThreadedServer` for the options) for the block; yield its URL."""
    server = ThreadedServer(app, **options)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()
