"""Run lock: one sync per district across threads and processes; dead holders are reclaimed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sched_helpers import FakeClock

from rostersync.errors import RunInProgress
from rostersync.schedule.locks import RunLocks, acquire_run_lock, hold_run_lock
from rostersync.store import Store


def test_second_lock_on_a_district_fails_clearly(store: Store) -> None:
    d = store.create_district("Springfield Public Schools")
    run_id = store.create_run(d.id, trigger="manual", source="sis")
    with acquire_run_lock(store.engine, d.id, "sis", run_id=run_id, district_name=d.name):
        with (
            pytest.raises(RunInProgress) as info,
            acquire_run_lock(store.engine, d.id, "ad", district_name=d.name),
        ):
            pass  # pragma: no cover
        err = info.value
        assert "A sync of Springfield Public Schools is already running" in str(err)
        assert "source 'sis'" in str(err)
        assert f"run {run_id}" in str(err)
        assert "--queue" in str(err)
        assert (err.source, err.run_id, err.exit_code) == ("sis", run_id, 5)
        # another district is not affected
        other = store.create_district("Shelbyville")
        with acquire_run_lock(store.engine, other.id, "sis"):
            pass
    # released at the end of the block
    assert RunLocks(store.engine).holder(d.id) is None
    with acquire_run_lock(store.engine, d.id, "sis"):
        pass


def test_lock_is_released_when_the_block_raises(store: Store) -> None:
    d = store.create_district("Ogdenville")
    with pytest.raises(ZeroDivisionError), acquire_run_lock(store.engine, d.id, "sis"):
        _ = 1 / 0
    assert RunLocks(store.engine).holder(d.id) is None


def test_expired_lock_is_reclaimed_and_its_run_marked_failed(
    store: Store, clock: FakeClock
) -> None:
    d = store.create_district("North Haverbrook")
    run_id = store.create_run(d.id, trigger="scheduled", source="sis")
    store.update_run(run_id, status="running")
    locks = RunLocks(store.engine, ttl=timedelta(seconds=60), clock=clock)
    dead = locks.try_acquire(d.id, "sis", trigger="scheduled", run_id=run_id)
    clock.advance(seconds=30)
    assert locks.heartbeat(dead)
    clock.advance(seconds=59)
    with pytest.raises(RunInProgress):
        locks.try_acquire(d.id, "sis")
    assert locks.reap() == []
    clock.advance(seconds=2)  # 61 s after the last heartbeat: the holder is presumed dead
    assert [i.run_id for i in locks.reap()] == [run_id]
    run = store.get_run(run_id)
    assert run.status == "failed"
    assert run.error is not None
    assert "stopped responding" in run.error
    assert run.finished_at == clock.now
    fresh = locks.try_acquire(d.id, "sis")
    assert not locks.heartbeat(dead), "the dead holder learns it lost the lock"
    assert dead.lost
    locks.release(dead)  # a late release by the old holder must not free the new holder's lock
    holder = locks.holder(d.id)
    assert holder is not None
    assert holder.owner == fresh.owner


def test_taking_over_an_expired_lock_directly(store: Store, clock: FakeClock) -> None:
    d = store.create_district("Capital City")
    run_id = store.create_run(d.id, trigger="scheduled", source="sis")
    locks = RunLocks(store.engine, ttl=timedelta(seconds=10), clock=clock)
    locks.try_acquire(d.id, "sis", run_id=run_id)
    clock.advance(seconds=11)
    locks.try_acquire(d.id, "sis", trigger="manual")
    assert store.get_run(run_id).status == "failed"


def test_queueing_waits_for_the_running_sync(store: Store) -> None:
    d = store.create_district("Brockway")
    locks = RunLocks(store.engine)
    first = locks.try_acquire(d.id, "sis")
    order: list[str] = []

    def second() -> None:
        lock = locks.acquire(d.id, "sis", wait=30, poll=0.05)
        order.append("second")
        locks.release(lock)

    thread = threading.Thread(target=second)
    thread.start()
    with pytest.raises(RunInProgress):
        locks.try_acquire(d.id, "sis")
    order.append("first")
    locks.release(first)
    thread.join(timeout=30)
    assert order == ["first", "second"]


def test_heartbeat_keeps_a_long_run_alive(store: Store) -> None:
    d = store.create_district("Cypress Creek")
    locks = RunLocks(store.engine, ttl=timedelta(milliseconds=400))
    lock = locks.try_acquire(d.id, "sis")
    with hold_run_lock(locks, lock):
        before = locks.holder(d.id)
        assert before is not None
        # wait until the heartbeat thread has renewed the lock twice (bounded)
        renewed = threading.Event()
        for _ in range(200):
            now = locks.holder(d.id)
            assert now is not None
            if now.heartbeat_at > before.heartbeat_at:
                renewed.set()
                break
            renewed.wait(0.02)
        assert renewed.is_set()
        assert not lock.lost
    assert locks.holder(d.id) is None


HOLDER = textwrap.dedent(
    """
    import sys, time
    from datetime import timedelta
    from rostersync.schedule.locks import RunLocks, hold_run_lock
    from rostersync.store import Store, make_engine

    store = Store(make_engine(sys.argv[1]))
    district_id, run_id = int(sys.argv[2]), int(sys.argv[3])
    locks = RunLocks(store.engine, ttl=timedelta(seconds=float(sys.argv[4])))
    lock = locks.try_acquire(district_id, "sis", trigger="scheduled", run_id=run_id)
    with hold_run_lock(locks, lock):
        print("locked", flush=True)
        time.sleep(600)
    """
)


def test_a_killed_process_on_this_host_loses_its_lock_at_once(
    store: Store, sqlite_url: str
) -> None:
    """The holder's lease is ten minutes, but its process is gone: no wait at all."""
    d = store.create_district("Springfield")
    run_id = store.create_run(d.id, trigger="scheduled", source="sis")
    store.update_run(run_id, status="running")
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, sqlite_url, str(d.id), str(run_id), "600"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(RunInProgress):
            RunLocks(store.engine).try_acquire(d.id, "sis")
        holder = RunLocks(store.engine).holder(d.id)
        assert holder is not None
        assert holder.owner.startswith(f"{socket.gethostname()}:{proc.pid}:")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        lock = RunLocks(store.engine).try_acquire(d.id, "sis")  # no waiting
        assert lock.owner
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    run = store.get_run(run_id)
    assert run.status == "failed"
    assert f"{proc.pid}" in (run.error or "")
    assert "is gone" in (run.error or "")


def test_a_holder_on_another_host_keeps_its_lock_until_its_lease_ends(store: Store) -> None:
    d = store.create_district("Shelbyville")
    clock = [datetime(2026, 9, 1, 12, tzinfo=UTC)]
    locks = RunLocks(store.engine, ttl=timedelta(minutes=2), clock=lambda: clock[0])
    # a pid that does not exist here: it is not ours to judge on another host
    locks.try_acquire(d.id, "sis", owner="elsewhere.example:999999:12345:abcd")
    with pytest.raises(RunInProgress):
        locks.try_acquire(d.id, "sis")
    clock[0] += timedelta(minutes=2)
    assert locks.try_acquire(d.id, "sis").owner != "elsewhere.example:999999:12345:abcd"
