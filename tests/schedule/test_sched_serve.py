"""`rostersync serve --with-scheduler`: the web app and the scheduler loop in one process."""

from __future__ import annotations

import time

import sqlalchemy as sa

from rostersync.settings import load_settings
from rostersync.store import open_store
from rostersync.store.schema import scheduler_heartbeats
from support.servers import free_port, start_serve, wait_serving


def _heartbeats(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(sa.select(scheduler_heartbeats)).all())


def test_serve_with_scheduler_ticks_and_stops_cleanly() -> None:
    store = open_store(load_settings(), upgrade=True)
    port = free_port()
    proc = start_serve(port, "--with-scheduler")
    try:
        wait_serving(proc, port)
        deadline = time.monotonic() + 60
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
