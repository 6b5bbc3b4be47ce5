"""`rostersync sync run` under the district's run lock: a second concurrent run fails with the
RunInProgress message or queues; a run killed mid-publish is marked failed by the next sync."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from integ_helpers import DISTRICT, cli, make_config, write_config

from rostersync.errors import RunInProgress
from rostersync.schedule.locks import acquire_run_lock
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import RunningSimulator
from rostersync.store import Store
from rostersync.sync.run import ensure_district


def _hold_lock(
    store: Store, district_id: int, started: threading.Event, release: threading.Event
) -> threading.Thread:
    """Another worker's sync of the district: holds the lock until told to stop."""

    def work() -> None:
        with acquire_run_lock(store.engine, district_id, "sis", trigger="scheduled"):
            started.set()
            release.wait(30)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    assert started.wait(10)
    return thread


def test_a_second_run_fails_clearly_or_queues(
    sim: RunningSimulator, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path / "d.yaml", sim.url, monkeypatch)
    district = ensure_district(store, make_config(sim.url, monkeypatch))
    started, release = threading.Event(), threading.Event()
    holder = _hold_lock(store, district, started, release)

    busy = cli("sync", "run", "--config", str(config), "--quiet")
    assert isinstance(busy.exception, RunInProgress)
    assert busy.exception.exit_code == 5
    assert f"A sync of {DISTRICT} is already running" in str(busy.exception)
    assert "--queue" in str(busy.exception)
    assert store.list_runs(district) == []  # nothing recorded: the run never started

    # --queue waits for the running sync to finish, then runs.
    timer = threading.Timer(1.0, release.set)
    timer.start()
    queued = cli("sync", "run", "-c", str(config), "-q", "--queue", "--wait-seconds", "30")
    timer.join()
    holder.join(10)
    assert queued.exit_code == 0, (queued.output, queued.exception)
    assert "published roster version 1" in queued.stdout
    assert [r.status for r in store.list_runs(district)] == ["succeeded"]


def test_queue_gives_up_after_wait_seconds(
    sim: RunningSimulator, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path / "d.yaml", sim.url, monkeypatch)
    district = ensure_district(store, make_config(sim.url, monkeypatch))
    started, release = threading.Event(), threading.Event()
    holder = _hold_lock(store, district, started, release)
    try:
        result = cli("sync", "run", "-c", str(config), "-q", "--queue", "--wait-seconds", "0.5")
        assert isinstance(result.exception, RunInProgress)
    finally:
        release.set()
        holder.join(10)


def test_two_concurrent_syncs_one_runs_one_is_refused(
    sim: RunningSimulator, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two real syncs of the same district started together on one SQLite store."""
    from rostersync.cli.sync import locked_sync

    config = make_config(sim.url, monkeypatch)
    ensure_district(store, config)
    sim.config.latency_ms = 50  # each request takes a while: the two runs overlap
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def one() -> None:
        barrier.wait()
        try:
            outcomes.append(locked_sync(store, config, load_settings()).status)
        except RunInProgress:
            outcomes.append("refused")

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(outcomes) == ["refused", "succeeded"]


def test_a_run_killed_mid_publish_is_marked_failed_by_the_next_sync(
    sim: RunningSimulator, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path / "d.yaml", sim.url, monkeypatch)
    district = ensure_district(store, make_config(sim.url, monkeypatch))
    dead = store.create_run(district, trigger="scheduled", source="sis")
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    store.update_run(dead, status="publishing", started_at=long_ago, heartbeat_at=long_ago)

    result = cli("sync", "run", "--config", str(config), "--quiet")
    assert result.exit_code == 0, (result.output, result.exception)
    run = store.get_run(dead)
    assert run.status == "failed"
    assert run.error is not None
    assert "interrupted during publish" in run.error


def test_worker_start_marks_killed_runs_failed(
    sim: RunningSimulator, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    district = ensure_district(store, make_config(sim.url, monkeypatch))
    dead = store.create_run(district, trigger="scheduled", source="sis")
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    store.update_run(dead, status="publishing", started_at=long_ago, heartbeat_at=long_ago)
    fresh = store.create_run(district, trigger="manual", source="sis")
    store.update_run(fresh, status="publishing", heartbeat_at=datetime.now(UTC))

    result = cli("worker", "--once", "--executor", "inprocess")
    assert result.exit_code == 0, (result.output, result.exception)
    assert store.get_run(dead).status == "failed"
    assert store.get_run(fresh).status == "publishing"  # alive: its heartbeat is recent
