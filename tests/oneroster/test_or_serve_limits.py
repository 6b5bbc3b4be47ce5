"""`rostersync serve` limits on request heads, over raw sockets against the real server: a head
past ``--max-header-bytes`` is answered 431, one not complete within ``--header-timeout`` 408,
and both close the connection; ordinary requests are unaffected, with one worker or several."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from rostersync.settings import load_settings
from rostersync.store import open_store
from rostersync.web.workers import BALANCES
from support.servers import free_port, start_serve, wait_serving

LIMIT = 4096


def _start(*args: str) -> Iterator[int]:
    open_store(load_settings(), upgrade=True).dispose()
    port = free_port()
    proc = start_serve(port, "--no-access-log", *args)
    try:
        wait_serving(proc, port)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)
        if proc.stderr:
            proc.stderr.close()


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    # Module-scoped, so the per-test isolated environment is not in force yet: give the server
    # (and the store it opens) a data directory of its own, never the caller's.
    with pytest.MonkeyPatch.context() as env:
        for key in [k for k in os.environ if k.startswith("ROSTERSYNC_")]:
            if not key.startswith("ROSTERSYNC_TEST_"):
                env.delenv(key)
        env.setenv("ROSTERSYNC_DATA_DIR", str(tmp_path_factory.mktemp("serve-limits") / "var"))
        yield from _start("--max-header-bytes", str(LIMIT), "--header-timeout", "1")


def exchange(port: int, data: bytes, *, then_wait: float = 30.0) -> bytes:
    """Send ``data``, then read until the server closes the connection (or ``then_wait``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=then_wait) as sock:
        if data:
            sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            pytest.fail(f"the server kept the connection open: {received[:200]!r}")
        return received


def request(headers: bytes = b"") -> bytes:
    return b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"Connection: close\r\n\r\n"


def test_an_ordinary_request_is_served(port: int) -> None:
    answer = exchange(port, request(b"X-Pad: " + b"a" * (LIMIT // 2) + b"\r\n"))
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


@pytest.mark.parametrize(
    "data",
    [
        request(b"X-Pad: " + b"a" * (LIMIT * 2) + b"\r\n"),
        request(b"".join(b"X-H%d: v\r\n" % i for i in range(LIMIT // 8))),
        b"GET /" + b"p" * (LIMIT * 2) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        request(b"Authorization: Bearer " + b"t" * (LIMIT * 4) + b"\r\n"),
    ],
    ids=["one-big-header", "many-headers", "long-url", "huge-token"],
)
def test_a_head_past_the_limit_is_431_and_closed(port: int, data: bytes) -> None:
    answer = exchange(port, data)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert str(LIMIT).encode() in answer


@pytest.mark.parametrize(
    "data",
    [b"", b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"GE"],
    ids=["nothing-sent", "headers-unfinished", "request-line-unfinished"],
)
def test_a_head_not_received_in_time_is_408_and_closed(port: int, data: bytes) -> None:
    answer = exchange(port, data)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


def test_a_trickle_of_header_bytes_is_cut_off(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        received = b""
        for _ in range(200):  # one header byte every 0.1 s, never finishing
            try:
                sock.sendall(b"X")
            except OSError:
                break
            time.sleep(0.1)
            sock.setblocking(False)
            try:
                received += sock.recv(65536)
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
            if received:
                break
    assert received.startswith(b"HTTP/1.1 408"), received[:200]


def _recv(sock: socket.socket, data: bytes) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        pytest.fail(f"the server closed the kept-alive connection: {data[:200]!r}")
    return data + chunk


def read_response(sock: socket.socket) -> bytes:
    """One response (head and a Content-Length body) from a kept-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        data = _recv(sock, data)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body = _recv(sock, body)
    return head + b"\r\n\r\n" + body


def test_a_kept_alive_connection_serves_several_requests(port: int) -> None:
    keep = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        for _ in range(3):
            sock.sendall(keep)
            answer = read_response(sock)
            assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
            time.sleep(0.5)  # idle between requests is keep-alive's business, not the head's
        # pipelined: both heads arrive at once, the second waits for the first's answer
        sock.sendall(keep + keep)
        assert read_response(sock).startswith(b"HTTP/1.1 200")
        assert read_response(sock).startswith(b"HTTP/1.1 200")


@pytest.mark.skipif(not BALANCES, reason="SO_REUSEPORT balancing is Linux-only")
def test_the_limits_hold_in_every_worker() -> None:
    for port in _start("--workers", "2", "--max-header-bytes", str(LIMIT)):
        for _ in range(4):  # new connections spread over both workers
            answer = exchange(port, request(b"X-Pad: " + b"a" * (LIMIT * 2) + b"\r\n"))
            assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
            assert exchange(port, request()).startswith(b"HTTP/1.1 200")
