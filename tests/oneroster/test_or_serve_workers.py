"""`rostersync serve --workers N`: a socket per worker, connections spread over the workers, a
dead worker replaced, SIGTERM stops everything, and a busy port is a one-line error."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rostersync.settings import load_settings
from rostersync.store import open_store
from rostersync.web.workers import BALANCES
from support.servers import free_port, start_serve, wait_serving

pytestmark = pytest.mark.skipif(not BALANCES, reason="SO_REUSEPORT balancing is Linux-only")


def _children(pid: int) -> set[int]:
    """The worker processes of the server ``pid`` (not multiprocessing's resource tracker)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ours = int(stat.rsplit(")", 1)[1].split()[1]) == pid
            if ours and b"spawn_main" in command:
                found.add(int(entry.name))
    return found


def _listening(port: int) -> int:
    """Listening sockets bound to ``port`` (one shared socket, or one per worker)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(
        1
        for row in rows
        if int(row.split()[1].split(":")[1], 16) == port and row.split()[3] == "0A"
    )


def _servers(parent: int, port: int) -> dict[int, int]:
    """Worker PID -> established connections it holds on ``port`` (from /proc)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01":  # ESTABLISHED, server side
            inodes.add(fields[9])
    held: dict[int, int] = {}
    for pid in _children(parent):
        count = 0
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    count += 1
        except OSError:
            continue
        held[pid] = count
    return held


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], int]]:
    open_store(load_settings(), upgrade=True).dispose()
    port = free_port()
    proc = start_serve(port, "--workers", "2")
    try:
        _wait_ready(proc, port)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(60)
        if proc.stderr:
            proc.stderr.close()


def _wait_ready(proc: subprocess.Popen[str], port: int, workers: int = 2) -> None:
    """Until every worker runs and listens on its own socket."""
    wait_serving(
        proc,
        port,
        lambda: len(_children(proc.pid)) >= workers and _listening(port) >= workers,
    )


def test_connections_are_spread_over_the_workers(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    proc, port = served
    # A socket per worker: the kernel balances between them (a shared one goes to whichever
    # worker accepts first, and under load that was 13 of 16 connections to one of two).
    assert _listening(port) == 2
    clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}") for _ in range(24)]
    try:
        for client in clients:  # keep-alive connections, held open
            assert client.get("/healthz").status_code == 200
        held = _servers(proc.pid, port)
        assert sum(held.values()) == 24
        assert all(n >= 4 for n in held.values()), held
    finally:
        for client in clients:
            client.close()


def test_a_dead_worker_is_replaced_and_sigterm_stops_all(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    proc, port = served
    before = _children(proc.pid)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        now = _children(proc.pid)
        if victim not in now and len(now) >= 2:
            break
        assert time.monotonic() < deadline, f"worker not replaced: {now}"
        time.sleep(0.2)
    _wait_ready(proc, port)
    for _ in range(10):
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def _serve_two_workers(port: int) -> subprocess.CompletedProcess[str]:
    """``rostersync serve --workers 2`` run to its end (for the ways it fails to start)."""
    return subprocess.run(
        [sys.executable, "-m", "rostersync", "serve", "--port", str(port), "--workers", "2"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_busy_port_is_a_clear_error() -> None:
    open_store(load_settings(), upgrade=True).dispose()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _serve_two_workers(port)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_workers_stop_when_the_supervisor_is_killed(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    """No orphan keeps serving the port after its supervisor died without cleaning up."""
    proc, port = served
    workers = _children(proc.pid)
    assert len(workers) == 2
    proc.kill()
    proc.wait(30)
    deadline = time.monotonic() + 60
    while any(Path(f"/proc/{pid}").exists() for pid in workers):
        assert time.monotonic() < deadline, "workers outlived their supervisor"
        time.sleep(0.2)
    assert _listening(port) == 0


UNREACHABLE = "postgresql+psycopg://rostersync@127.0.0.1:1/roster"


def test_an_unreachable_store_is_one_line_with_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """As with one worker: the store is checked before any worker starts."""
    monkeypatch.setenv("ROSTERSYNC_DATABASE_URL", UNREACHABLE)
    result = _serve_two_workers(free_port())
    assert result.returncode != 0
    assert "Cannot use the store" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_worker_that_cannot_start_stops_the_supervisor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker whose store is unreachable when it starts says so in one line and exits; the
    supervisor then stops, instead of restarting it in a loop."""
    monkeypatch.setenv("ROSTERSYNC_DATABASE_URL", UNREACHABLE)
    script = f"""
from rostersync.errors import FatalError
from rostersync.web.workers import serve_workers
try:
    serve_workers(2, "127.0.0.1", {free_port()}, {{}})
except FatalError as exc:
    print("stopped:", exc)
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "stopped: a web worker could not start" in result.stdout
    assert "error: Cannot use the store" in result.stderr
    assert "Traceback" not in result.stderr
