"""Benchmark of the admin console's pages: server-side render time on a mega district.

Builds a store holding one district of ``--scale`` × 1,000,000 students (generated column by
column, as ``changes.py`` does) published as version 1, a held run whose change set is the next
day's ~1 % change (saved as a sync saves it), a second version, and ``--runs`` finished runs.
Then serves the real app (uvicorn in a thread), signs an operator in through a server-side
session, and requests every console page ``--requests`` times one after another, reporting
p50/p99 per page (target: ≤ 200 ms p99). Prints JSON.

    .venv/bin/python bench/console_pages.py --scale 0.05            # SQLite, 50,000 students
    .venv/bin/python bench/console_pages.py --db postgresql+psycopg://…  # PostgreSQL
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa
import uvicorn

from _common import load_average, machine, progress
from changes import MEGA_SCHOOLS, MEGA_STUDENTS, generate, next_day
from rostersync.admin.accounts import Accounts
from rostersync.admin.sessions import Sessions
from rostersync.changes.diff import diff_rosters
from rostersync.clock import utcnow
from rostersync.settings import Settings
from rostersync.store import Store, make_engine
from rostersync.sync.changesets import save_changes
from rostersync.web.app import create_app

PASSWORD = "bench password for the console"


def build(store: Store, scale: float, runs: int) -> dict[str, Any]:
    """A mega-scale district: v1 published, a held 1 % change set, v2, ``runs`` runs."""
    students = max(int(MEGA_STUDENTS * scale), 10)
    schools = max(int(MEGA_SCHOOLS * scale), 1)
    day1 = generate(students, schools)
    day2 = next_day(day1, 0.01)
    district = store.create_district(f"Bench {uuid.uuid4().hex[:6]}")
    t = time.perf_counter()
    store.publish(district.id, day1)
    progress(f"published v1 in {time.perf_counter() - t:.1f} s")
    changes = diff_rosters(day1, day2, bulk_upload=True, base_version=1)
    now = utcnow()
    summary = {"entities": {e: {"out": day1[e].height} for e in day1}}
    for i in range(runs):
        run_id = store.create_run(district.id, trigger="scheduled" if i % 3 else "manual")
        store.update_run(
            run_id,
            status="succeeded" if i % 10 else "failed",
            started_at=now - timedelta(minutes=runs - i, seconds=40),
            finished_at=now - timedelta(minutes=runs - i),
            report={"summary": {e: {"out": v["out"]} for e, v in summary["entities"].items()}},
            error=None if i % 10 else "bench: a failed run",
        )
    held = store.create_run(district.id, trigger="manual")
    save_changes(store, held, changes)
    store.update_run(
        held,
        status="held",
        started_at=now,
        finished_at=now,
        change_summary={**changes.summary(), "hold_reasons": ["bench: over the threshold"]},
    )
    store.publish(district.id, day2)
    return {
        "district": district.slug,
        "held_run": held,
        "students": students,
        "changed_records": changes.total,
    }


def serve(app: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


def measure(
    http: httpx.Client, path: str, requests: int, budget_seconds: float = 60.0
) -> dict[str, Any]:
    """``requests`` timed requests, fewer (at least 3) when a slow page uses up the budget."""
    times: list[float] = []
    start = time.perf_counter()
    for _ in range(requests):
        if len(times) >= 3 and time.perf_counter() - start > budget_seconds:
            break
        t = time.perf_counter()
        answer = http.get(path)
        times.append((time.perf_counter() - t) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: HTTP {answer.status_code}: {answer.text[:300]}")
    times.sort()
    return {
        "requests": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 1),
        "max_ms": round(times[-1], 1),
    }


def run(url: str, scale: float, runs: int, requests: int) -> dict[str, Any]:
    store = Store(make_engine(url))
    store.upgrade()
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(database_url=url, data_dir=Path(data))
        t = time.perf_counter()
        built = build(store, scale, runs)
        built["build_seconds"] = round(time.perf_counter() - t, 1)
        accounts = Accounts(store, settings)
        account = accounts.create("bench-operator", "operator", PASSWORD, actor="bench")
        session = Sessions(store, accounts).start(account, address="127.0.0.1")
        server, thread, base = serve(create_app(settings, store))
        d, held = built["district"], built["held_run"]
        changes = f"/console/d/{d}/runs/{held}/changes"
        pages = {
            "overview": f"/console/d/{d}/",
            "runs": f"/console/d/{d}/runs",
            "runs_filtered": f"/console/d/{d}/runs?status=failed",
            "run": f"/console/d/{d}/runs/{held - 1}",
            "changes": f"{changes}?entity=users&kind=updated",
            "changes_search": f"{changes}?entity=users&kind=added&search=9",
            "versions": f"/console/d/{d}/versions",
            "versions_diff": f"/console/d/{d}/versions?a=1&b=2",
            "overrides": f"/console/d/{d}/overrides",
            "clients": f"/console/d/{d}/clients",
            "audit": f"/console/d/{d}/audit",
            "admins": "/console/admins",
            "account": "/console/account",
        }
        try:
            with httpx.Client(
                base_url=base, cookies={"rostersync_session": session.id}, timeout=120
            ) as http:
                results = {}
                for name, path in pages.items():
                    progress(f"{name} …")
                    measure(http, path, 1)  # warm-up
                    results[name] = measure(http, path, requests)
        finally:
            server.should_exit = True
            thread.join(timeout=30)
    store.dispose()
    worst = max(r["p99_ms"] for r in results.values())
    return {**built, "pages": results, "worst_p99_ms": worst, "target_p99_ms": 200}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1,000,000 students")
    parser.add_argument("--runs", type=int, default=1000, help="finished runs of the district")
    parser.add_argument("--requests", type=int, default=50, help="requests per page")
    parser.add_argument("--db", default="", help="PostgreSQL URL (default: a SQLite file)")
    args = parser.parse_args()
    result: dict[str, Any] = {"bench": "console_pages", "scale": args.scale, "runs": args.runs}
    if args.db:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.db)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            sep = "&" if "?" in args.db else "?"
            url = f"{args.db}{sep}options={quote(f'-csearch_path={schema}')}"
            result["postgresql"] = run(url, args.scale, args.runs, args.requests)
        finally:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            result["sqlite"] = run(url, args.scale, args.runs, args.requests)
    result["load_average_1m"] = load_average()
    result["machine"] = machine()
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
