"""Benchmark: whole syncs of a district end to end — extract over HTTP, the rules, changes,
publish — on PostgreSQL, from a simulator with added latency, in one process tree.

The simulator runs as a child process (``rostersync simulate powerschool``) with the plugin the
connector writes (its change-tracking PowerQuery installed) and 20 ms latency per request; this
process runs the syncs (``rostersync.sync.run.sync_config``) into a fresh PostgreSQL schema.
Two districts read the same SIS: ``incremental`` (connector option ``incremental: true``) and
``full`` (a full pull every time). Scenarios, in order:

- ``first_sync``: both districts' first sync (a full pull each; ``incremental``'s is reported);
- ``quiet_day``: the SIS unchanged, both synced again;
- ``change_day``: the simulator lives ``--days`` more days (about 0.6 % of students change per
  day: new, withdrawn, transferred, renamed, emails, schedules), both synced again.

Per scenario and district: seconds per phase (extract, pipeline, changes, total), requests,
bytes received, how the extraction was made, and the records published; per process peak RSS
(this one and the simulator). One JSON object on stdout. Example::

    .venv/bin/python bench/e2e.py --size medium --latency-ms 20
    .venv/bin/python bench/e2e.py --size small --latency-ms 20 --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from _common import emit, launch_simulator, load_average, machine, peak_rss_mb, progress
from rostersync.config import validate_config
from rostersync.connectors.powerschool import ExtractPlan
from rostersync.connectors.powerschool.plugin import write_plugin
from rostersync.logs import configure_logging
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from rostersync.store import Store, make_engine
from rostersync.sync.run import SyncOutcome, sync_config
from rostersync.sync.wiring import decide_for

SCHOOL_EMAIL = {"student": {"email": "U_DEF_EXT_STUDENTS.school_email"}}
PLAN = ExtractPlan(
    sync_co_teachers=True,
    custom_fields={"student": ("U_DEF_EXT_STUDENTS.school_email",)},
    change_tracking=True,
)


def start_simulator(size: str, latency_ms: int, plugin: Path) -> tuple[subprocess.Popen[str], str]:
    args = ["powerschool", "--size", size, "--port", "0", "--latency-ms", str(latency_ms)]
    args += ["--plugin", str(plugin), "--enable-control"]
    # A live SIS's data version is never 0 (which PowerQueries may take as "everything").
    return launch_simulator([*args, "--day", "1"], ready_seconds=600)


def child_peak_rss_mb(pid: int) -> float | None:
    """A live child's peak resident memory (Linux ``VmHWM``), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def config(url: str, district: str, incremental: bool) -> Any:
    os.environ["BENCH_PS_SECRET"] = DEFAULT_CLIENT_SECRET
    body = {
        "district": district,
        "sources": [
            {
                "name": "sis",
                "app": "powerschool",
                "delivery": {
                    "url": url,
                    "client_id": DEFAULT_CLIENT_ID,
                    "client_secret": "env:BENCH_PS_SECRET",
                },
                "connector": {"incremental": incremental, "concurrency": 16},
                "attribute_mapping": SCHOOL_EMAIL,
                "advanced": {"compare_by_uniqueness": False},
            }
        ],
        # The bench measures the sync, not an admin's approval of a large first change.
        "hold_threshold": {"delete_percent": None, "update_percent": None},
    }
    return validate_config(body, district)


def measure(store: Store, cfg: Any) -> dict[str, Any]:
    settings = load_settings()
    decide = decide_for(cfg, settings, today=date(2025, 8, 26), notify=False)
    started = time.perf_counter()
    outcome: SyncOutcome = sync_config(store, cfg, settings, decide=decide)
    seconds = time.perf_counter() - started
    stats = outcome.extract.get("sis", {})
    phases = outcome.phases
    return {
        "status": outcome.status,
        "seconds": round(seconds, 3),
        "extract_seconds": phases.get("extract", {}).get("seconds"),
        "pipeline_seconds": phases.get("pipeline", {}).get("seconds"),
        "changes_publish_seconds": round(
            seconds
            - (phases.get("extract", {}).get("seconds") or 0)
            - (phases.get("pipeline", {}).get("seconds") or 0),
            3,
        ),
        "requests": stats.get("requests"),
        "bytes": stats.get("bytes"),
        "extraction": stats.get("incremental", {"mode": "full"}),
        "unchanged": outcome.unchanged,
        "published": outcome.version_counts,
        "summary": outcome.summary,
        "peak_rss_mb": peak_rss_mb(),
    }


def one_run(size: str, latency_ms: int, days: int, pg_base: str) -> dict[str, Any]:
    schema = f"rs_bench_e2e_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.make_url(pg_base).update_query_dict({"options": f"-csearch_path={schema}"})
    store = Store(make_engine(url.render_as_string(hide_password=False)))
    store.upgrade()
    with tempfile.TemporaryDirectory() as tmp:
        plugin = write_plugin(Path(tmp) / "plugin.zip", PLAN)
        progress(f"simulator: {size}, {latency_ms} ms latency …")
        proc, sim = start_simulator(size, latency_ms, plugin)
        try:
            inc = config(sim, "Incremental ISD", True)
            full = config(sim, "Full Pull ISD", False)
            out: dict[str, Any] = {}
            for scenario in ("first_sync", "quiet_day", "change_day"):
                if scenario == "change_day":
                    answer = httpx.post(f"{sim}/_sim/day", json={"day": 1 + days}, timeout=600)
                    answer.raise_for_status()
                progress(f"{scenario}: incremental district …")
                a = measure(store, inc)
                progress(f"{scenario}: {a['seconds']} s, {a['requests']} requests")
                progress(f"{scenario}: full-pull district …")
                b = measure(store, full)
                progress(f"{scenario}: {b['seconds']} s, {b['requests']} requests")
                out[scenario] = {"incremental": a, "full": b}
            out["simulator_peak_rss_mb"] = child_peak_rss_mb(proc.pid)
            return out
        finally:
            proc.terminate()
            proc.wait(30)
            store.dispose()
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            admin.dispose()


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for scenario in ("first_sync", "quiet_day", "change_day"):
        for district in ("incremental", "full"):
            for key in ("seconds", "extract_seconds", "requests", "bytes"):
                values = [r[scenario][district][key] for r in runs if r[scenario][district][key]]
                if values:
                    out[f"{scenario}.{district}.{key}"] = statistics.median(values)
    change = out.get("change_day.incremental.requests"), out.get("change_day.full.requests")
    if change[0] and change[1]:
        out["change_day.requests_share_of_full"] = round(change[0] / change[1], 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", help="tiny, small, medium, large or mega")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--days", type=int, default=1, help="days the change day lives")
    parser.add_argument("--runs", type=int, default=1, help="repeat and report medians")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("ROSTERSYNC_TEST_POSTGRES_URL"),
        help="server (a fresh schema is created and dropped); default "
        "$ROSTERSYNC_TEST_POSTGRES_URL",
    )
    args = parser.parse_args()
    if not args.postgres_url:
        raise SystemExit("give --postgres-url or set ROSTERSYNC_TEST_POSTGRES_URL")
    os.environ.setdefault("ROSTERSYNC_DATA_DIR", tempfile.mkdtemp(prefix="rs-bench-e2e-"))
    configure_logging("ERROR")  # stdout is the JSON result
    load = load_average()
    runs = [
        one_run(args.size, args.latency_ms, args.days, args.postgres_url) for _ in range(args.runs)
    ]
    emit(
        {
            "benchmark": "e2e",
            "size": args.size,
            "latency_ms": args.latency_ms,
            "days": args.days,
            "runs": runs,
            "medians": medians(runs),
            "peak_rss_mb": peak_rss_mb(),
            "load_average_1m": {"before": load, "after": load_average()},
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
