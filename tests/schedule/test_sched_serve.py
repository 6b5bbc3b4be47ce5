"""`rostersync serve --with-scheduler`: the web app and the scheduler loop in one process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import sqlalchemy as sa

from rostersync.schedule.tables import scheduler_heartbeats
from rostersync.settings import load_settings
from rostersync.store import open_store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _heartbeats(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(sa.select(scheduler_heartbeats)).all())


def test_serve_with_scheduler_ticks_and_stops_cleanly() -> None:
    store = open_store(load_settings(), upgrade=True)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rostersync", "serve", "--port", str(port), "--with-scheduler"],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        while _heartbeats(store.engine) == 0:
            assert time.monotonic() < deadline, "the scheduler never ticked"
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(60)
        stderr = proc.stderr.read() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
    assert "Traceback" not in stderr
    assert _heartbeats(store.engine) == 0, "a stopped scheduler leaves no heartbeat behind"
    store.dispose()
