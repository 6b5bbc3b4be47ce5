"""`rostersync serve` in a subprocess: a free port, starting it, and waiting until it answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(port: int, *args: str) -> subprocess.Popen[str]:
    """``rostersync serve --port PORT ARGS…`` with this test's environment."""
    return subprocess.Popen(
        [sys.executable, "-m", "rostersync", "serve", "--port", str(port), *args],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_serving(
    proc: subprocess.Popen[str],
    port: int,
    ready: Callable[[], bool] = lambda: True,
    seconds: float = 60,
) -> None:
    """Until ``/healthz`` answers 200 and ``ready()`` holds; fails if the server exits."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            healthy = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            if healthy and ready():
                return
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.1)
