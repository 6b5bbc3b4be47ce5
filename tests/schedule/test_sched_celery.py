"""Scale-out on the real broker: two Celery worker processes, runs dispatched by the scheduler.

Runs when ROSTERSYNC_TEST_REDIS_URL and/or ROSTERSYNC_TEST_AMQP_URL are set. The store is a
fresh PostgreSQL database when ROSTERSYNC_TEST_POSTGRES_URL is set, else a SQLite file.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sched_helpers import FakeClock

from rostersync.schedule.celery_app import create_app
from rostersync.schedule.executors import CeleryExecutor
from rostersync.schedule.locks import RunLocks
from rostersync.schedule.plan import DueRun
from rostersync.schedule.scheduler import Scheduler
from rostersync.store import Store, make_engine
from rostersync.store.schema import run_locks

HERE = Path(__file__).parent
BROKERS = [
    pytest.param(os.environ.get(var), id=name)
    for var, name in (("ROSTERSYNC_TEST_REDIS_URL", "redis"), ("ROSTERSYNC_TEST_AMQP_URL", "amqp"))
]
LOCK_TTL = 3.0
DAILY = {"every": "daily", "at": "02:00", "timezone": "UTC"}


@dataclass
class Worker:
    name: str
    proc: subprocess.Popen[str]
    lines: list[str]

    def stop(self) -> None:
        # tasks are acknowledged on receipt, so a hard stop loses nothing a test looks at
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=15)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@dataclass
class Cluster:
    broker: str
    queue: str
    db_url: str
    workers: list[Worker]
    app: Any


def _start_worker(name: str, env: dict[str, str]) -> Worker:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "sched_worker_app",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{name}@%h",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    threading.Thread(target=pump, daemon=True).start()
    return Worker(name, proc, lines)


def _wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module", params=BROKERS)
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """Two worker processes on one broker, shared by this module's tests (in order)."""
    broker = request.param
    tmp_path = tmp_path_factory.mktemp("cluster")
    if not broker:
        pytest.skip("broker URL for this test is not set")
    pg = os.environ.get("ROSTERSYNC_TEST_POSTGRES_URL")
    dbname = f"rs_sched_celery_{uuid.uuid4().hex[:8]}"
    admin = None
    if pg:
        admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{dbname}"')
        db_url = sa.make_url(pg).set(database=dbname).render_as_string(hide_password=False)
    else:
        db_url = f"sqlite:///{tmp_path / 'cluster.db'}"
    setup = Store(make_engine(db_url))
    setup.upgrade()
    setup.dispose()
    queue = f"rs-test-{uuid.uuid4().hex[:8]}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ROSTERSYNC_") or k.startswith("ROSTERSYNC_TEST_")
    }
    env.update(
        ROSTERSYNC_DATABASE_URL=db_url,
        ROSTERSYNC_BROKER_URL=broker,
        ROSTERSYNC_DATA_DIR=str(tmp_path / "var"),
        ROSTERSYNC_LOG_LEVEL="WARNING",
        SCHED_TEST_QUEUE=queue,
        SCHED_TEST_LOCK_TTL=str(LOCK_TTL),
        SCHED_TEST_RUN_SECONDS="0.2",
        PYTHONPATH=os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]),
    )
    workers = [_start_worker(f"w{i}-{queue}", env) for i in (1, 2)]
    app = create_app(broker, queue=queue)
    try:
        for w in workers:
            _wait_for(lambda w=w: any("ready." in x for x in w.lines), 60, f"{w.name} ready")
        yield Cluster(broker, queue, db_url, workers, app)
    finally:
        for w in workers:
            w.stop()
        try:
            with app.connection_for_write() as conn:
                conn.default_channel.queue_delete(queue)
        except Exception:  # the queue may not exist on this broker: nothing to clean
            pass
        if admin is not None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            admin.dispose()


def _intervals_overlap(runs: list[Any]) -> bool:
    spans = sorted((r.started_at, r.finished_at) for r in runs)
    return any(b[0] < a[1] for a, b in itertools.pairwise(spans))


@pytest.fixture
def store(cluster: Cluster) -> Iterator[Store]:
    s = Store(make_engine(cluster.db_url))
    yield s
    s.dispose()


def test_twenty_districts_due_at_once_each_sync_once_never_overlapping(
    cluster: Cluster, store: Store
) -> None:
    ids = []
    for i in range(20):
        d = store.create_district(f"District {i:02d}")
        store.save_config_version(d.id, {"district": d.name, "sync_schedule": DAILY})
        store.add_source(d.id, "sis", "powerschool")
        ids.append(d.id)
    clock = FakeClock(datetime(2026, 9, 1, 12, tzinfo=UTC))
    executor = CeleryExecutor(cluster.app)
    scheduler = Scheduler(store, executor, clock=clock)
    assert scheduler.tick().dispatched == []
    clock.now = datetime(2026, 9, 2, 2, 0, 30, tzinfo=UTC)
    result = scheduler.tick()
    assert sorted(r.district_id for r in result.dispatched) == ids
    # an admin presses "Run import" on five districts at the same moment
    for d in ids[:5]:
        executor.submit(DueRun(d, f"District {d}", "sis", "manual", clock.now, "manual"))

    def finished() -> bool:
        runs = [r for d in ids for r in store.list_runs(d)]
        return len(runs) == 25 and all(r.finished_at is not None for r in runs)

    _wait_for(finished, 120, "25 runs to finish")
    workers = set()
    for d in ids:
        runs = store.list_runs(d)
        expected = ["manual", "scheduled"] if d in ids[:5] else ["scheduled"]
        assert sorted(r.trigger for r in runs) == expected
        assert all(r.status == "published" for r in runs)
        assert not _intervals_overlap(runs), f"district {d} ran twice at once"
        assert store.current_version(d) == len(runs)
        workers |= {r.report.get("worker_pid") for r in runs}
    assert len(workers) == 2, "both workers took runs"
    assert RunLocks(store.engine).held() == []


def test_killed_worker_run_fails_lock_released_and_retry_runs(
    cluster: Cluster, store: Store
) -> None:
    if "amqp" in cluster.broker:
        pytest.skip("the kill test runs once, on Redis")
    d = store.create_district("Slow District")
    store.save_config_version(
        d.id,
        {
            "district": d.name,
            "sources": [{"name": "sis"}],
            "sync_schedule": {**DAILY, "retry_interrupted": True},
        },
    )
    executor = CeleryExecutor(cluster.app)
    scheduler = Scheduler(store, executor)
    # The first tick may dispatch other districts' runs too (the earlier test's districts are
    # days behind on the real clock): the workers then hold several districts' locks at once.
    scheduler.tick()
    executor.submit(DueRun(d.id, d.name, "sis", "scheduled", datetime.now(UTC), "scheduled"))

    def holder_pid() -> int | None:
        # the slow district's holder: reading any lock's owner killed whichever worker ran
        # another district's run, and the slow run's lock then never expired
        with store.engine.connect() as conn:
            owner = conn.execute(
                sa.select(run_locks.c.owner).where(run_locks.c.district_id == d.id)
            ).scalar()
        return int(owner.split(":")[1]) if owner else None

    def slow_run_started() -> bool:
        runs = store.list_runs(d.id)
        return holder_pid() is not None and bool(runs) and runs[0].status == "running"

    _wait_for(slow_run_started, 60, "the slow run")
    pid = holder_pid()
    victim = next(w for w in cluster.workers if w.proc.pid == pid)
    victim.proc.kill()
    victim.proc.wait(timeout=30)
    (run,) = store.list_runs(d.id)
    assert run.status == "running"

    retried: list[DueRun] = []

    def reaped() -> bool:
        retried.extend(scheduler.tick().retried)
        return bool(retried)

    _wait_for(reaped, 60, "the scheduler to reap the dead worker's lock")
    failed = store.get_run(run.id)
    assert failed.status == "failed"
    assert "is gone" in (failed.error or "")  # its process died on this host: at once
    assert store.current_version(d.id) is None, "nothing was published by the killed run"

    def retry_done() -> bool:
        runs = store.list_runs(d.id)
        return len(runs) == 2 and runs[0].finished_at is not None

    _wait_for(retry_done, 60, "the retry on the surviving worker")
    retry = store.list_runs(d.id)[0]
    assert (retry.trigger, retry.status) == ("retry", "published")
    assert store.current_version(d.id) == 1
    assert RunLocks(store.engine).held() == []
