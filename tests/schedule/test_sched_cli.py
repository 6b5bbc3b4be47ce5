"""`rostersync schedule show` and `rostersync worker --once` against a store in the data dir."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from rostersync.cli import app
from rostersync.cli._app import console
from rostersync.logs import configure_logging
from rostersync.settings import load_settings
from rostersync.store import open_store

runner = CliRunner()


def _cli(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    configure_logging()  # the runner's captured stderr is closed now; log to the real one
    assert result.exit_code == code, result.output
    return result.output


def test_schedule_show_lists_next_runs_and_warns_without_a_scheduler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(console, "width", 240)
    store = open_store(load_settings(), upgrade=True)
    d = store.create_district("Springfield")
    store.save_config_version(
        d.id,
        {
            "district": "Springfield",
            "sources": [{"name": "sis"}],
            "sync_schedule": {
                "every": "weekly",
                "days": ["mon", "thu"],
                "at": "05:30",
                "timezone": "America/Chicago",
            },
        },
    )
    bad = store.create_district("Shelbyville")
    store.save_config_version(
        bad.id, {"district": "Shelbyville", "sync_schedule": {"every": "weekly"}}
    )
    out = _cli("schedule", "show")
    assert "weekly on mon, thu at 05:30" in out
    assert "05:30 CST" in out or "05:30 CDT" in out
    assert "Shelbyville: sync_schedule unreadable" in out
    assert "needs `days`" in out
    assert "no scheduler is running" in out
    data = json.loads(_cli("schedule", "show", "--json", "--count", "2", "-d", "springfield"))
    (source,) = data["sources"]
    assert source["district"] == "Springfield"
    assert source["source"] == "sis"
    assert len(source["next_runs"]) == 2
    assert source["last_trigger"] is None
    assert data["problems"] == []
    # a tick records the source's state; nothing is due for a brand-new schedule
    out = _cli("worker", "--once", "--executor", "inprocess")
    assert "1 scheduled source(s); dispatched 0 run(s)" in out
    store.dispose()


def test_worker_needs_a_broker_for_celery() -> None:
    open_store(load_settings(), upgrade=True).dispose()
    proc = subprocess.run(
        [sys.executable, "-m", "rostersync", "worker", "--once", "--executor", "celery"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert "ROSTERSYNC_BROKER_URL" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_scheduler_thread_starts_ticks_and_stops() -> None:
    import threading

    from sched_helpers import publishing_run

    from rostersync.schedule.service import schedule_overview, start_scheduler_thread

    settings = load_settings()
    store = open_store(settings, upgrade=True)
    handle = start_scheduler_thread(
        settings, interval=0.05, executor="inprocess", store=store, run_function=publishing_run
    )
    ticked = threading.Event()
    for _ in range(600):
        if schedule_overview(store).schedulers:
            ticked.set()
            break
        ticked.wait(0.05)
    assert ticked.is_set(), "the scheduler thread recorded a tick"
    handle.stop()
    assert not handle.thread.is_alive()
    assert schedule_overview(store).schedulers == [], "a clean stop clears the heartbeat"
    store.dispose()
