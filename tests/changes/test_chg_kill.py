"""kill -9 during publish: a real subprocess killed mid-transaction leaves the previous version
serving, byte for byte, and the run is then marked failed (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from changes_data import make_roster

from rostersync.model import ENTITIES
from rostersync.store import Store
from rostersync.sync.approval import ChangeOptions, RunNotHeld, approve, process_candidate
from rostersync.sync.recovery import recover_interrupted_runs

CHILD = Path(__file__).parent / "chg_publisher.py"


TODAY = date(2026, 10, 4)


def _kill_mid_publish(store_url: str, district: int, run_id: int, *args: str) -> str:
    """Run the child publisher and kill -9 it mid-publish; returns what it printed after."""
    users = args[0] if args and args[0].isdigit() else "0"
    extra = [a for a in args if not a.isdigit()]
    child = subprocess.Popen(
        [sys.executable, str(CHILD), store_url, str(district), str(run_id), users, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line == "claimed"  # inside the publish transaction now
        if store_url.startswith("sqlite"):
            # the child holds still after its first batch of roster rows
            assert child.stdout.readline().strip() == "writing"
        else:
            time.sleep(0.5)  # let it write roster rows for a while (seconds of work remain)
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    return rest


def test_kill_9_during_publish_keeps_previous_version(store: Store, store_url: str) -> None:
    district = store.create_district("Springfield").id
    day1 = make_roster(500)
    first = store.create_run(district, trigger="manual")
    process_candidate(store, district, first, day1, ChangeOptions(), today=date(2026, 10, 4))
    before = {name: store.read_version(district)[name].write_ndjson() for name in ENTITIES}

    run_id = store.create_run(district, trigger="manual")
    rest = _kill_mid_publish(store_url, district, run_id, "200000")
    assert "published" not in rest  # it really died mid-publish

    assert store.current_version(district) == 1
    assert store.get_run(run_id).status == "publishing"
    after = store.read_version(district)
    for name in ENTITIES:
        assert after[name].write_ndjson() == before[name], name
    # its owner (the killed process, on this host) is gone: recovered at once, no lease to wait
    assert recover_interrupted_runs(store, district) == {run_id: "failed"}
    assert store.get_run(run_id).status == "failed"

    # the store is healthy: the next run publishes normally
    again = store.create_run(district, trigger="manual")
    out = process_candidate(
        store, district, again, make_roster(600), ChangeOptions(), today=date(2026, 10, 5)
    )
    assert out.status == "succeeded"
    assert store.current_version(district) == 2


def test_kill_9_during_approval_puts_the_run_back_to_held(store: Store, store_url: str) -> None:
    district = store.create_district("Shelbyville").id
    first = store.create_run(district, trigger="manual")
    process_candidate(store, district, first, make_roster(500), ChangeOptions(), today=TODAY)
    held = store.create_run(district, trigger="manual")
    preview = ChangeOptions(preview=True)
    assert process_candidate(store, district, held, make_roster(100_000), preview, today=TODAY)
    assert store.get_run(held).status == "held"

    rest = _kill_mid_publish(store_url, district, held, "approve")
    assert "published" not in rest
    assert store.get_run(held).status == "publishing"  # what a killed approval leaves
    with pytest.raises(RunNotHeld):
        approve(store, held)

    # the next start recovers it at once (its owner is gone): held again, approvable again
    assert recover_interrupted_runs(store) == {held: "held"}
    run = store.get_run(held)
    assert run.status == "held"
    assert "approved_by" not in run.change_summary
    assert run.change_summary["interrupted_approval"]["by"] == "cli:test"
    assert approve(store, held).version == 2
    assert store.read_version(district)["users"].height == 100_000
