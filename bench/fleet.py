"""Benchmark of the sync scheduler for a fleet of districts, and of Celery scale-out.

1. Plan: 10,000 configured sources (daily/weekly, many time zones): the cold load (next slot
   of every source) and the per-tick cost over a whole simulated day, ticking every 30 s.
2. Scheduler: the same fleet in a real store (SQLite file, or PostgreSQL with --pg): the full
   tick (change check, dead-lock reaping, claims, heartbeat) when nothing and when many are due.
3. Celery (with --broker): N small districts all due at once, dispatched to 2 worker processes;
   runs per minute from dispatch to the last run finished.

Prints JSON.

    .venv/bin/python bench/fleet.py
    .venv/bin/python bench/fleet.py --broker redis://127.0.0.1:6379/0 --celery-districts 500
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rostersync.config import WEEKDAYS, SyncSchedule
from rostersync.schedule.executors import CeleryExecutor
from rostersync.schedule.plan import DueRun, ScheduledSource, SchedulePlan
from rostersync.schedule.scheduler import Scheduler
from rostersync.store import Store, make_engine
from rostersync.store.schema import config_versions, districts

ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
    "Pacific/Guam",
    "UTC",
]
START = datetime(2026, 9, 1, 12, tzinfo=UTC)


def schedule_body(rng: random.Random) -> dict[str, Any]:
    body: dict[str, Any] = {
        "every": "daily",
        "at": f"{rng.randrange(24):02d}:{rng.choice([0, 15, 30, 45]):02d}",
        "timezone": rng.choice(ZONES),
        "first_day_of_school": rng.random() < 0.3,
    }
    if rng.random() < 0.3:
        body["every"] = "weekly"
        body["days"] = sorted(rng.sample(WEEKDAYS, rng.randint(1, 3)), key=WEEKDAYS.index)
    return body


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "mean_ms": ms(statistics.fmean(ordered)),
        "p50_ms": ms(ordered[len(ordered) // 2]),
        "p99_ms": ms(ordered[int(len(ordered) * 0.99)]),
        "max_ms": ms(ordered[-1]),
    }


def bench_plan(n: int, hours: float) -> dict[str, Any]:
    rng = random.Random(7)
    sources = [
        ScheduledSource(i, f"District {i}", "sis", SyncSchedule.model_validate(schedule_body(rng)))
        for i in range(n)
    ]
    plan = SchedulePlan()
    t0 = time.perf_counter()
    plan.load(sources, {}, START)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    plan.load(sources, {s.key: START for s in sources}, START)
    reload_same = time.perf_counter() - t0
    samples, due = [], 0
    now = START + timedelta(seconds=7)
    for _ in range(int(hours * 120)):  # 30-second ticks
        now += timedelta(seconds=30)
        t0 = time.perf_counter()
        due += len(plan.tick(now))
        samples.append(time.perf_counter() - t0)
    return {
        "sources": n,
        "cold_load_ms": ms(cold),
        "reload_unchanged_ms": ms(reload_same),
        "ticks": len(samples),
        "simulated_hours": hours,
        "runs_due": due,
        "tick": stats(samples),
    }


def fill_store(store: Store, n: int) -> None:
    rng = random.Random(7)
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        conn.execute(
            districts.insert(),
            [
                {"id": i + 1, "name": f"District {i}", "slug": f"district-{i}", "created_at": now}
                for i in range(n)
            ],
        )
        conn.execute(
            config_versions.insert(),
            [
                {
                    "district_id": i + 1,
                    "version": 1,
                    "body": json.dumps(
                        {
                            "district": f"District {i}",
                            "sources": [{"name": "sis", "app": "powerschool"}],
                            "sync_schedule": schedule_body(rng),
                        }
                    ),
                    "created_at": now,
                    "created_by": "bench",
                }
                for i in range(n)
            ],
        )


class CountingExecutor:
    def __init__(self) -> None:
        self.count = 0

    def submit(self, due: DueRun) -> None:
        self.count += 1

    def shutdown(self, wait: bool = True) -> None:
        return None


def bench_scheduler(store: Store, n: int, hours: float) -> dict[str, Any]:
    fill_store(store, n)
    clock_now = [START]
    executor = CountingExecutor()
    scheduler = Scheduler(store, executor, clock=lambda: clock_now[0])
    t0 = time.perf_counter()
    first = scheduler.tick()
    cold = time.perf_counter() - t0
    idle: list[float] = []
    busy: list[float] = []
    reloads: list[float] = []
    dispatched = [0]
    now = START + timedelta(seconds=7)  # ticks are not aligned with the quarter hours
    for _ in range(int(hours * 120)):  # 30-second ticks
        now += timedelta(seconds=30)
        clock_now[0] = now
        t0 = time.perf_counter()
        result = scheduler.tick()
        took = time.perf_counter() - t0
        if result.reloaded:
            reloads.append(took)  # the periodic re-read of configurations and calendars
            continue
        (busy if result.dispatched else idle).append(took)
        dispatched.append(len(result.dispatched))
    return {
        "sources": len(scheduler.plan),
        "first_tick_with_load_ms": ms(cold),
        "first_tick_reloaded": first.reloaded,
        "idle_tick": stats(idle),
        "tick_with_dispatches": stats(busy) if busy else None,
        "periodic_reload_tick": stats(reloads) if reloads else None,
        "max_dispatched_in_one_tick": max(dispatched),
        "runs_dispatched": executor.count,
    }


def bench_celery(broker: str, db_url: str, n: int, workers: int) -> dict[str, Any]:
    store = Store(make_engine(db_url))
    with store.engine.begin() as conn:
        for table in ("run_locks", "schedule_state", "scheduler_heartbeats"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
    queue = f"fleet-{uuid.uuid4().hex[:8]}"
    here = Path(__file__).parent
    env = dict(os.environ)
    env.update(
        ROSTERSYNC_DATABASE_URL=db_url,
        ROSTERSYNC_BROKER_URL=broker,
        ROSTERSYNC_LOG_LEVEL="WARNING",
        FLEET_QUEUE=queue,
        PYTHONPATH=os.pathsep.join([str(here), env.get("PYTHONPATH", "")]),
    )
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "fleet_worker",
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"fleet{i}-{queue}@%h",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(workers)
    ]
    from rostersync.schedule.celery_app import create_app

    app = create_app(broker, queue=queue)
    try:
        time.sleep(8)  # workers start (imports) before the clock starts
        ids = [
            r.id
            for r in store.engine.connect().execute(
                sa.select(districts.c.id).order_by(districts.c.id).limit(n)
            )
        ]
        executor = CeleryExecutor(app)
        t0 = time.perf_counter()
        for d in ids:
            executor.submit(DueRun(d, f"District {d}", "sis", "scheduled", START, "scheduled"))
        dispatch = time.perf_counter() - t0
        deadline = time.monotonic() + 1800
        done = 0
        while time.monotonic() < deadline:
            with store.engine.connect() as conn:
                done = conn.execute(
                    sa.text("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL")
                ).scalar_one()
            if done >= n:
                break
            time.sleep(0.5)
        elapsed = time.perf_counter() - t0
    finally:
        for p in procs:
            p.kill()
            p.wait()
        try:
            with app.connection_for_write() as conn:
                conn.default_channel.queue_delete(queue)
        except Exception:
            pass
    with store.engine.connect() as conn:
        statuses = dict(
            conn.execute(sa.text("SELECT status, count(*) FROM runs GROUP BY status")).all()
        )
    store.dispose()
    return {
        "districts": n,
        "workers": workers,
        "dispatch_ms": ms(dispatch),
        "seconds_to_last_run": round(elapsed, 2),
        "runs_per_minute": round(done / elapsed * 60, 1),
        "run_statuses": statuses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=10_000)
    parser.add_argument("--pg", default=None, help="PostgreSQL URL for the store (new database)")
    parser.add_argument("--broker", default=None, help="redis://… or amqp://… for part 3")
    parser.add_argument("--celery-districts", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hours", type=float, default=24.0, help="simulated time to tick through")
    args = parser.parse_args()
    out: dict[str, Any] = {"plan": bench_plan(args.sources, args.hours)}
    with tempfile.TemporaryDirectory() as tmp:
        admin = None
        dbname = f"rs_fleet_{uuid.uuid4().hex[:8]}"
        if args.pg:
            admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{dbname}"')
            db_url = sa.make_url(args.pg).set(database=dbname).render_as_string(False)
        else:
            db_url = f"sqlite:///{Path(tmp) / 'fleet.db'}"
        try:
            store = Store(make_engine(db_url))
            store.upgrade()
            out["store"] = "postgresql" if args.pg else "sqlite"
            out["scheduler"] = bench_scheduler(store, args.sources, args.hours)
            store.dispose()
            if args.broker:
                out["celery"] = bench_celery(
                    args.broker, db_url, min(args.celery_districts, args.sources), args.workers
                )
        finally:
            if admin is not None:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
                admin.dispose()
    out["load_average_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
