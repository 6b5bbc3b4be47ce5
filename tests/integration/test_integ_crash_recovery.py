"""kill -9 of a real `rostersync sync run` process mid-extraction: the next sync on this host
takes the dead process's run lock at once (no lease to wait out) and the killed run, left
`running`, is recovered as failed with the reason."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from integ_helpers import DISTRICT, cli, write_config

from rostersync.schedule.locks import RunLocks
from rostersync.simulators.powerschool import RunningSimulator
from rostersync.store import Store
from rostersync.sync.events import read_events


def _wait_for_running(store: Store, child: subprocess.Popen[bytes], timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert child.poll() is None, "the sync ended before it could be killed"
        try:
            district = store.get_district(DISTRICT).id
        except Exception:
            district = None
        if district is not None:
            runs = [r for r in store.list_runs(district) if r.status == "running"]
            # killed once its extraction has begun (its first event stored), not in between
            if (
                runs
                and RunLocks(store.engine).holder(district) is not None
                and read_events(store.engine, runs[0].id)
            ):
                return runs[0].id
        time.sleep(0.05)
    raise AssertionError("the sync never started running")


def test_killed_sync_lock_taken_over_at_once_and_run_recovered(
    sim: RunningSimulator, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path / "d.yaml", sim.url, monkeypatch)
    sim.config.faults.latency_ms = 200  # the extraction takes seconds: time to kill it
    child = subprocess.Popen(
        [sys.executable, "-m", "rostersync", "sync", "run", "--config", str(config), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        killed = _wait_for_running(store, child)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    # its events show where it stopped: in the extraction, no decision
    stopped = read_events(store.engine, killed)
    assert stopped[0].kind == "phase_started"
    assert {e.phase for e in stopped} == {"extract"}
    assert all(e.kind != "decision" for e in stopped)
    district = store.get_district(DISTRICT).id
    assert store.get_run(killed).status == "running"
    holder = RunLocks(store.engine).holder(district)
    assert holder is not None
    assert holder.owner.startswith(f"{os.uname().nodename}:{child.pid}:")

    sim.config.faults.latency_ms = 0
    # Without --queue a held lock refuses the run at once, so success means the dead holder's
    # lock was taken over without waiting out its lease (no wall-clock bound needed).
    result = cli("sync", "run", "--config", str(config), "--quiet")
    assert result.exit_code == 0, (result.output, result.exception)
    run = store.get_run(killed)
    assert run.status == "failed"
    assert run.error is not None
    assert "before publishing; nothing was published" in run.error
    assert str(child.pid) in run.error
    assert store.current_version(district) == 1


def test_serve_and_scheduler_starts_settle_runs_of_dead_processes(store: Store) -> None:
    """What `serve` runs first: every district's runs whose owner died are settled; a run whose
    owner lives (this process) is left alone."""
    from datetime import UTC, datetime

    from rostersync.liveness import hostname, process_identity
    from rostersync.settings import load_settings
    from rostersync.sync import ledger
    from rostersync.sync.recovery import recover_at_start
    from rostersync.sync.states import RunStatus

    district = store.create_district("Ogdenville").id
    dead, alive = (store.create_run(district, trigger="manual") for _ in range(2))
    for run, owner in ((dead, f"{hostname()}:99999999:1"), (alive, process_identity())):
        ledger.transition(
            store, run, RunStatus.RUNNING, owner=owner, heartbeat_at=datetime.now(UTC)
        )
    assert recover_at_start(load_settings()) == {dead: "failed"}
    assert store.get_run(dead).status == "failed"
    assert store.get_run(alive).status == "running"


def test_runs_whose_owner_cannot_be_checked_wait_for_their_heartbeat(store: Store) -> None:
    """A run owned on another host, or recorded without its process's start time (the pid may
    have been reused), is not judged dead: it is settled only once its heartbeat is stale."""
    from datetime import UTC, datetime, timedelta

    from rostersync.liveness import hostname
    from rostersync.sync import ledger
    from rostersync.sync.recovery import STALE_ELSEWHERE, recover_interrupted_runs
    from rostersync.sync.states import RunStatus

    district = store.create_district("North Haverbrook").id
    beat = datetime(2026, 9, 1, 12, tzinfo=UTC)
    elsewhere, no_start = (store.create_run(district, trigger="manual") for _ in range(2))
    owners = {elsewhere: "elsewhere.example:1:1", no_start: f"{hostname()}:{os.getpid()}:?"}
    for run, owner in owners.items():
        ledger.transition(store, run, RunStatus.RUNNING, owner=owner, heartbeat_at=beat)

    fresh = beat + STALE_ELSEWHERE - timedelta(seconds=1)
    assert recover_interrupted_runs(store, district, now=fresh) == {}
    assert {store.get_run(r).status for r in owners} == {"running"}

    stale = beat + STALE_ELSEWHERE
    assert recover_interrupted_runs(store, district, now=stale) == {
        elsewhere: "failed",
        no_start: "failed",
    }
    for run in owners:
        assert "no heartbeat since 2026-09-01 12:00:00 UTC" in (store.get_run(run).error or "")
