"""Benchmark of the management API's reads: runs list and versions list on a big store.

Generates a district of ``--students`` (default 1,000,000: the simulator's "mega" size, with
its staff, classes and enrollments) and publishes it (version 1) and a next day with 1 % of the
users changed (version 2) into a store (SQLite, or a throwaway PostgreSQL schema with ``--pg``),
records ``--runs`` finished runs (default 1,000) through the store's run API with the change
summary of a real day, and adds roster version rows up to ``--versions`` (metadata rows cloned
from version 2: listing versions reads only that table). Then it serves the real app with
uvicorn in a thread and times, from this process, sequential requests of an operator's token:

- ``GET /api/v1/districts/{d}/runs`` (the default page of 20, and ``limit=1000``),
- ``GET /api/v1/districts/{d}/versions`` (the default page of 100, and ``limit=1000``).

Each scenario runs ``--requests`` times after a warm-up, ``--repeats`` times (median of the
repeats' p50/p99 reported). Prints JSON.

    .venv/bin/python bench/manage_api.py                           # mega district, SQLite
    .venv/bin/python bench/manage_api.py --pg postgresql+psycopg://postgres@127.0.0.1/test
    .venv/bin/python bench/manage_api.py --students 20000          # quick
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI

from _common import Phases, emit, load_average, machine, peak_rss_mb, progress
from oneroster_api import generate, one_percent_changed
from rostersync.admin.accounts import Accounts
from rostersync.admin.tokens import Tokens
from rostersync.clock import utcnow
from rostersync.logs import configure_logging
from rostersync.settings import load_settings
from rostersync.store import open_store
from rostersync.store.schema import roster_versions
from rostersync.web.app import create_app, tune_gc

TARGET_P99_MS = 50.0


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_requests(client: httpx.Client, path: str, n: int) -> dict[str, float]:
    for _ in range(max(5, n // 20)):  # warm-up
        client.get(path).raise_for_status()
    took = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path)
        took.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return {"p50_ms": percentile(took, 0.5), "p99_ms": percentile(took, 0.99)}


def record_runs(store: Any, district_id: int, count: int, summary: dict[str, Any]) -> None:
    """``count`` finished runs, each with a real day's change summary and counts."""
    now = utcnow()
    for i in range(count):
        run_id = store.create_run(district_id, trigger="scheduled", source="sis")
        started = now - timedelta(days=count - i)
        store.update_run(
            run_id,
            status="succeeded",
            started_at=started,
            finished_at=started + timedelta(minutes=3),
            change_summary=summary,
            counts=summary.get("counts", {}),
            roster_version=2,
        )


def clone_versions(store: Any, district_id: int, upto: int) -> None:
    with store.engine.begin() as conn:
        row = conn.execute(
            sa.select(roster_versions).where(
                roster_versions.c.district_id == district_id, roster_versions.c.version == 2
            )
        ).one()
        base = dict(row._mapping)
        rows = [
            base | {"version": v, "note": f"bench copy of version 2 ({v})"}
            for v in range(3, upto + 1)
        ]
        if rows:
            conn.execute(roster_versions.insert(), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pg", help="PostgreSQL URL (a throwaway schema is created)")
    args = parser.parse_args()
    configure_logging("ERROR")
    phases = Phases()
    out: dict[str, Any] = {"benchmark": "manage_api", "students": args.students}
    with tempfile.TemporaryDirectory(prefix="rostersync-manage-bench-") as tmp:
        url = None
        if args.pg:
            schema = f"mgbench_{uuid.uuid4().hex[:10]}"
            admin = sa.create_engine(args.pg)
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            sep = "&" if "?" in args.pg else "?"
            url = f"{args.pg}{sep}options={quote(f'-csearch_path={schema}')}"
        try:
            settings = load_settings(data_dir=Path(tmp) / "var", database_url=url)
            store = open_store(settings, upgrade=True)
            with phases("generate"):
                roster = generate(args.students)
            out["rows"] = {k: v.height for k, v in roster.items() if v.height}
            district = store.create_district(f"Bench manage {args.students}")
            with phases("publish"):
                store.publish(district.id, roster)
                store.publish(district.id, one_percent_changed(roster))
            diff = store.diff_versions(district.id, 1, 2)
            summary = {
                "base_version": 1,
                "total": sum(d.counts().changed for d in diff.values()),
                "entities": {k: {"changed": d.counts().changed} for k, d in diff.items()},
            }
            with phases("record_runs"):
                record_runs(store, district.id, args.runs, summary)
                clone_versions(store, district.id, args.versions)
            accounts = Accounts(store, settings)
            accounts.create("bench-operator", "operator", "bench passphrase 1", actor="bench")
            token, _ = Tokens(store, accounts).create("bench-operator", "b", days=1, actor="bench")
            scenarios = {
                "runs_list": f"/api/v1/districts/{district.slug}/runs",
                "runs_list_1000": f"/api/v1/districts/{district.slug}/runs?limit=1000",
                "versions_list": f"/api/v1/districts/{district.slug}/versions",
                "versions_list_1000": f"/api/v1/districts/{district.slug}/versions?limit=1000",
            }
            results: dict[str, list[dict[str, float]]] = {k: [] for k in scenarios}
            app = create_app(settings, store)
            # as `rostersync serve` does in each worker: the set-up's objects frozen out of the
            # collector, and rare collections (without it, full collections over this process's
            # generated district were the p99)
            tune_gc()
            with (
                serve(app) as base,
                httpx.Client(
                    base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
                ) as client,
            ):
                out["versions_listed_1000"] = len(
                    client.get(scenarios["versions_list_1000"]).json()
                )
                out["runs_listed_1000"] = len(client.get(scenarios["runs_list_1000"]).json())
                for repeat in range(args.repeats):
                    progress(f"repeat {repeat + 1}/{args.repeats}")
                    for name, path in scenarios.items():
                        results[name].append(time_requests(client, path, args.requests))
            store.dispose()
        finally:
            if args.pg:
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    for name, runs in results.items():
        out[name] = {
            "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
            "p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 2),
            "p99_ms_each_repeat": [round(r["p99_ms"], 2) for r in runs],
        }
    out["target_p99_ms"] = TARGET_P99_MS
    out["within_target"] = all(
        out[n]["p99_ms"] <= TARGET_P99_MS for n in ("runs_list", "versions_list")
    )
    out.update(
        backend="postgresql" if args.pg else "sqlite",
        runs=args.runs,
        requests_per_repeat=args.requests,
        repeats=args.repeats,
        phase_seconds=phases.seconds,
        peak_rss_mb=peak_rss_mb(),
        load_average_1m=load_average(),
        machine=machine(),
    )
    emit(out)


if __name__ == "__main__":
    main()
