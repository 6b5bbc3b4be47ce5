"""A TCP relay in front of the test ``slapd`` that can drop every connection mid-page.

It reads the server's answers as LDAP messages (BER: a SEQUENCE holding the message ID and the
operation) and, once armed, closes both sides after passing on ``drop_after_entries`` search
result entries on a connection: the client sees the server go away in the middle of a page (or,
with ``stall``, stop answering there).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

SEARCH_RESULT_ENTRY = 0x64


def _message_length(buffer: bytes) -> int | None:
    """The length of the BER message at the start of ``buffer`` (None: not all here yet)."""
    if len(buffer) < 2:
        return None
    first = buffer[1]
    if first < 0x80:
        header, size = 2, first
    else:
        count = first & 0x7F
        if len(buffer) < 2 + count:
            return None
        header, size = 2 + count, int.from_bytes(buffer[2 : 2 + count], "big")
    total = header + size
    return total if len(buffer) >= total else None


def _operation(message: bytes) -> int:
    """The protocolOp tag of an LDAPMessage (after the SEQUENCE header and the message ID)."""
    first = message[1]
    at = 2 if first < 0x80 else 2 + (first & 0x7F)
    id_length = message[at + 1]
    return message[at + 2 + id_length]


@dataclass
class DroppingProxy:
    """Relays 127.0.0.1:``port`` to the server; ``armed`` makes it drop connections mid-page."""

    target_port: int
    drop_after_entries: int
    armed: bool = False
    #: Instead of closing, stop answering (until the proxy stops): a server that hangs.
    stall: bool = False
    #: Instead of closing, send bytes that are not LDAP, then close.
    garble: bool = False
    port: int = 0
    dropped: int = 0
    _listener: socket.socket = field(default_factory=socket.socket)
    _threads: list[threading.Thread] = field(default_factory=list)
    _open: list[socket.socket] = field(default_factory=list)
    _released: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self._spawn(self._accept)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self._open += [client, upstream]
            self._spawn(self._pump, client, upstream)
            self._spawn(self._answers, upstream, client)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        self._close(src, dst)

    def _answers(self, server: socket.socket, client: socket.socket) -> None:
        buffer, entries = b"", 0
        with contextlib.suppress(OSError):
            while data := server.recv(65536):
                buffer += data
                while (size := _message_length(buffer)) is not None:
                    message, buffer = buffer[:size], buffer[size:]
                    client.sendall(message)
                    if _operation(message) == SEARCH_RESULT_ENTRY:
                        entries += 1
                        if self.armed and entries >= self.drop_after_entries:
                            self.dropped += 1
                            if self.stall:
                                self._released.wait(60)
                            if self.garble:
                                client.sendall(b"\x30\x05\x02\x01\x07\x7f\x00" * 4)
                            self._close(server, client)
                            return
        self._close(server, client)

    @staticmethod
    def _close(*sockets: socket.socket) -> None:
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()

    def stop(self) -> None:
        self._released.set()
        self._close(self._listener, *self._open)
        for thread in self._threads:
            thread.join(timeout=5)


@contextlib.contextmanager
def dropping_proxy(target_port: int, drop_after_entries: int) -> Iterator[DroppingProxy]:
    proxy = DroppingProxy(target_port, drop_after_entries)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
