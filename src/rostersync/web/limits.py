"""Request-head limits for the HTTP server: a size cap on the request line and headers, and a
deadline for receiving them.

uvicorn's httptools protocol accepts headers of any size and waits for them forever (its
keep-alive timeout starts only after a response), so one client could hold a connection open
with a trickle of header bytes, or make the server buffer megabytes of headers. This protocol
answers ``431 Request Header Fields Too Large`` past a byte limit and ``408 Request Timeout``
when a request head (from the connection's opening, or from the first byte of the next request
on a kept-alive connection) is not complete within a deadline. ``rostersync serve
--max-header-bytes/--header-timeout`` set them (defaults there).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop reading a head past the limit."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a request-head size limit and a head-read deadline."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        max_header_bytes: int,
        header_timeout: float,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.max_header_bytes = max_header_bytes
        self.header_timeout = header_timeout
        self._head_bytes = 0
        self._head_too_large = False
        self._head_timer: asyncio.TimerHandle | None = None

    # -- the head deadline ------------------------------------------------------------------

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if (self.cycle is not None and not self.cycle.response_complete) or self.pipeline:
            # A pipelined head waits while the server answers an earlier request (reading is
            # paused meanwhile): the delay is ours, not the client's.
            self._arm_head_timer()
            return
        self._refuse(408, "Request header not received in time.")

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    # -- parser callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._arm_head_timer()

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.max_header_bytes:
            self._head_too_large = True
            raise _HeadTooLarge

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        super().on_headers_complete()

    # -- refusals ---------------------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        if self._head_too_large:
            self._refuse(431, f"Request line and headers exceed {self.max_header_bytes} bytes.")
        else:
            super().send_400_response(msg)

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` with a one-line text body and close the connection."""
        body = message.encode("ascii")
        self.transport.write(
            b"".join(
                (
                    STATUS_LINE[status],
                    b"content-type: text/plain; charset=utf-8\r\n",
                    b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                    b"connection: close\r\n\r\n",
                    body,
                )
            )
        )
        self.transport.close()


def limited_http(max_header_bytes: int, header_timeout: float) -> Any:
    """uvicorn's ``http`` option for these limits (picklable, for worker processes)."""
    return functools.partial(
        LimitedHttpToolsProtocol,
        max_header_bytes=max_header_bytes,
        header_timeout=header_timeout,
    )
