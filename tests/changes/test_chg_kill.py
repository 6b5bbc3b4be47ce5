"""kill -9 during publish: a real subprocess killed mid-transaction leaves the previous version
serving, byte for byte, and the run is then marked failed (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from changes_data import make_roster

from rostersync.changes.flow import ChangeOptions, process_candidate, recover_interrupted_runs
from rostersync.model import ENTITIES
from rostersync.store import Store

CHILD = Path(__file__).parent / "chg_publisher.py"


def test_kill_9_during_publish_keeps_previous_version(store: Store, store_url: str) -> None:
    district = store.create_district("Springfield").id
    day1 = make_roster(500)
    first = store.create_run(district, trigger="manual")
    process_candidate(store, district, first, day1, ChangeOptions(), today=date(2026, 10, 4))
    before = {name: store.read_version(district)[name].write_ndjson() for name in ENTITIES}

    run_id = store.create_run(district, trigger="manual")
    child = subprocess.Popen(
        [sys.executable, str(CHILD), store_url, str(district), str(run_id), "200000"],
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
    assert "published" not in rest  # it really died mid-publish

    assert store.current_version(district) == 1
    assert store.get_run(run_id).status == "publishing"
    after = store.read_version(district)
    for name in ENTITIES:
        assert after[name].write_ndjson() == before[name], name
    assert recover_interrupted_runs(store, district, stale_after=timedelta(0)) == [run_id]
    assert store.get_run(run_id).status == "failed"

    # the store is healthy: the next run publishes normally
    again = store.create_run(district, trigger="manual")
    out = process_candidate(
        store, district, again, make_roster(600), ChangeOptions(), today=date(2026, 10, 5)
    )
    assert out.status == "succeeded"
    assert store.current_version(district) == 2
