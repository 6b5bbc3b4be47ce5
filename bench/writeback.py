"""Benchmark: 2-way sync, a large district's day of grades written back to PowerSchool.

A generated district is synced once into a store; its gradebook is filled with line items for
every class and a result for every enrolled student until it holds ``--scores`` scores. Then
the write-back (``rostersync.sync.writeback``) sends them to a fresh simulator (its own process,
``--latency-ms`` added to every request), each mode ``--runs`` times:

- ``sequential``: connector concurrency 1 — one request at a time;
- ``concurrent``: connector concurrency ``--concurrency``;
- ``rate_limited``: the same concurrency with ``min_interval_ms`` set: the observed request rate
  must stay under the configured one.

Each run starts from an empty PowerTeacher Pro gradebook and no write-back links, and is timed
whole (reading the store, talking to PowerSchool, persisting links and log) and per step; the
``write`` step is the part concurrency speeds up. Prints one JSON object. Example::

    .venv/bin/python bench/writeback.py --scores 100000 --latency-ms 20
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import polars as pl

from _common import emit, load_average, machine, peak_rss_mb, progress
from rostersync.clock import utcnow
from rostersync.config import validate_config
from rostersync.export.oneroster.gradebook_model import SHAPES, columns
from rostersync.logs import configure_logging
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from rostersync.store import open_store
from rostersync.store.schema import (
    gradebook_objects,
    gradebook_writeback_links,
    gradebook_writeback_log,
)
from rostersync.sync.run import sync_config
from rostersync.sync.writeback import write_back


def start_simulator(size: str, seed: int, latency_ms: int) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "rostersync", "simulate", "powerschool", "--size", size]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd += ["--seed", str(seed), "--port", str(port), "--latency-ms", str(latency_ms)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    url = next((w for w in line.split() if w.startswith("http://")), None)
    if url is None:
        proc.kill()
        raise SystemExit(f"simulator did not start: {line!r}")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/ws/v1/time", timeout=2).status_code < 500:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("simulator did not answer")


def config_body(url: str, mode: str, connector: dict[str, Any]) -> dict[str, Any]:
    return {
        "district": "Bench Unified",
        "sources": [
            {
                "name": "sis",
                "app": "powerschool",
                "sync_mode": mode,
                "delivery": {
                    "url": url,
                    "client_id": DEFAULT_CLIENT_ID,
                    "client_secret": "env:BENCH_PS_SECRET",
                },
                "connector": {"backoff_base_seconds": 0.05, **connector},
            }
        ],
        "hold_threshold": {"allow_over_threshold_until": "2099-12-31"},
    }


def fill_gradebook(store: Any, district_id: int, target: int) -> int:
    """Line items per class and a result per enrolled student, until ``target`` scores."""
    roster = store.read_version(district_id)
    enr = roster["enrollments"].filter(pl.col("role") == "student")
    per_class = enr.group_by("classSourcedId").agg(pl.col("userSourcedId")).sort("classSourcedId")
    seats = enr.height
    items_per_class = max(1, -(-target // max(seats, 1)))
    when = utcnow()
    rows: list[dict[str, Any]] = []

    def row(kind: str, sid: str, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "district_id": district_id,
            "kind": kind,
            "sourcedId": sid,
            "status": "active",
            "dateLastModified": when,
            "body": json.dumps(body, sort_keys=True),
            "origin": "bench-app",
            **columns(SHAPES[kind], body),  # type: ignore[index]
        }

    rows.append(row("categories", "bench-cat", {"title": "Homework"}))
    written = 0
    for cid, students in per_class.iter_rows():
        for k in range(items_per_class):
            li = f"li-{cid}-{k}"
            rows.append(
                row(
                    "lineItems",
                    li,
                    {
                        "title": f"Homework {k + 1}",
                        "assignDate": "2026-12-01T08:00:00.000Z",
                        "dueDate": "2026-12-02T08:00:00.000Z",
                        "class": cid,
                        "category": "bench-cat",
                        "resultValueMax": 10,
                    },
                )
            )
            for n, student in enumerate(students):
                if written >= target:
                    break
                rows.append(
                    row(
                        "results",
                        f"r-{cid}-{k}-{n}",
                        {
                            "lineItem": li,
                            "student": student,
                            "class": cid,
                            "scoreStatus": "fully graded",
                            "score": (n + k) % 11,
                            "scoreDate": "2026-12-02",
                        },
                    )
                )
                written += 1
    with store.engine.begin() as conn:
        conn.execute(
            gradebook_objects.delete().where(gradebook_objects.c.district_id == district_id)
        )
        for start in range(0, len(rows), 5000):
            conn.execute(gradebook_objects.insert(), rows[start : start + 5000])
    return written


def one_run(
    store: Any, settings: Any, args: argparse.Namespace, connector: dict[str, Any]
) -> dict[str, Any]:
    proc, url = start_simulator(args.size, args.seed, args.latency_ms)
    try:
        with store.engine.begin() as conn:
            conn.execute(gradebook_writeback_links.delete())
            conn.execute(gradebook_writeback_log.delete())
        config = validate_config(config_body(url, "two_way", connector), "bench")
        requests = 0

        async def count(_: httpx.Request) -> None:
            nonlocal requests
            requests += 1

        concurrency = int(connector.get("concurrency", 8))
        client = httpx.AsyncClient(
            timeout=60,
            limits=httpx.Limits(max_connections=concurrency + 2),
            event_hooks={"request": [count]},
        )
        start = time.perf_counter()
        report = write_back(store, config, settings, client=client)
        seconds = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(30)
    if report.refused or report.conflicts:
        raise SystemExit(f"write-back refused or conflicted: {report.to_dict()}")
    return {
        "seconds": round(seconds, 3),
        "scores_written": report.scores_written,
        "assignments_created": report.assignments_created,
        "requests": requests,
        "phases": report.seconds,
        "requests_per_second": round(requests / seconds, 1),
        "scores_per_second": round(report.scores_written / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="small")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--scores", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--min-interval-ms", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", default=None, help="Store URL (default: SQLite in a temp dir).")
    args = parser.parse_args()
    configure_logging("WARNING")  # stdout carries the one JSON object only
    os.environ["BENCH_PS_SECRET"] = DEFAULT_CLIENT_SECRET
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp) / "var", database_url=args.db)
        store = open_store(settings, upgrade=True)
        proc, url = start_simulator(args.size, args.seed, 0)
        try:
            progress("syncing the district …")
            outcome = sync_config(
                store, validate_config(config_body(url, "import", {}), "b"), settings
            )
        finally:
            proc.terminate()
            proc.wait(30)
        scores = fill_gradebook(store, outcome.district_id, args.scores)
        progress(f"{scores} scores in the gradebook")
        modes = {
            "sequential": {"concurrency": 1},
            "concurrent": {"concurrency": args.concurrency},
            "rate_limited": {
                "concurrency": args.concurrency,
                "min_interval_ms": args.min_interval_ms,
            },
        }
        runs: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
        for i in range(args.runs):  # modes interleaved: back-to-back ratios
            for mode, connector in modes.items():
                found = one_run(store, settings, args, connector)
                progress(f"run {i + 1} {mode}: {found}")
                runs[mode].append(found)
        store.dispose()
    median = {m: statistics.median(r["seconds"] for r in rs) for m, rs in runs.items()}
    median_write = {
        m: statistics.median(r["phases"]["write"] for r in rs) for m, rs in runs.items()
    }
    configured_rate = 1000 / args.min_interval_ms if args.min_interval_ms else None
    emit(
        {
            "benchmark": "writeback",
            "machine": machine(),
            "load_average": load_average(),
            "size": args.size,
            "scores": scores,
            "latency_ms": args.latency_ms,
            "concurrency": args.concurrency,
            "runs": runs,
            "median_seconds": median,
            "median_write_seconds": median_write,
            "speedup_vs_sequential": round(median["sequential"] / median["concurrent"], 2),
            "write_phase_speedup_vs_sequential": round(
                median_write["sequential"] / median_write["concurrent"], 2
            ),
            "rate_limited": {
                "configured_max_requests_per_second": configured_rate,
                "observed_max_requests_per_second": max(
                    r["requests_per_second"] for r in runs["rate_limited"]
                ),
            },
            "peak_rss_mb": peak_rss_mb(),
        }
    )


if __name__ == "__main__":
    main()
