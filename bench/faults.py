"""Fault campaign: every simulator fault × store, kill -9 and a database restart mid-run.

For each case a fresh store (a SQLite file; a fresh PostgreSQL schema with ``--postgres URL`` or
ROSTERSYNC_TEST_POSTGRES_URL) and a fresh simulated district are synced once cleanly, then the
district lives one day further before every faulty run, so each run has real additions and
deletions to publish. After every run the store is checked against the simulator's ground truth:
the records the source holds at that moment, computed from the district's own tables (not from
anything our connector or pipeline produced). It prints one JSON object: per case and in total,
runs attempted, published (a new version), unchanged, held and failed, and

- ``records_lost``: records the source holds that the store no longer serves after the run
  (when the run published: the whole truth missing from its version; otherwise what the
  previous version had and lost);
- ``wrongly_deleted``: of those, the records the version before the run still had;
- ``partial_versions``: published versions that miss records the source held at the time.

All three must be 0. ``stale`` (records the source dropped that the store still serves) is
expected after a failed or held run and is reported for information only.

    .venv/bin/python bench/faults.py --quick                 # a few minutes
    .venv/bin/python bench/faults.py                         # the full campaign (8 runs, 2,000)
    .venv/bin/python bench/faults.py --quick --cases outage_mid,kill --no-db-restart
    .venv/bin/python bench/faults.py --quick --strict        # exit 1 when a record was lost

Cases: the simulator's faults (``latency``, ``errors`` 500/503 storm, ``throttle_429`` and
``throttle_503`` with a minimum interval, ``token_expiry``, ``truncated``, ``outage_start``,
``outage_mid`` switched on at several points of the extraction, ``outage_window`` on for a
stretch of it then off again, ``server_down`` from the start, ``server_down_mid``), each on
every store; ``kill``: ``rostersync sync run`` in a subprocess killed with SIGKILL at random
moments (then the next run must recover); ``db_restart``: a private PostgreSQL cluster
(``initdb``/``pg_ctl`` on a free port in a temporary directory) restarted in the middle of
``sync run`` subprocesses.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from _common import emit, load_average, machine, progress
from _faults_servers import (
    PG_ENV,
    FaultySimulator,
    PrivateCluster,
    open_store,
    pg_schema,
    sqlite_store,
)
from _faults_truth import Check, check_store, count, ground_truth, minus, served
from rostersync.config import DistrictConfig, validate_config
from rostersync.errors import RostersyncError
from rostersync.logs import configure_logging
from rostersync.settings import Settings
from rostersync.simulators.powerschool import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    generate_district,
)
from rostersync.store import Store
from rostersync.sync import sync_config

SECRET_ENV = "FAULTS_BENCH_PS_SECRET"


# ----------------------------------------------------------------------------- configuration


def config_body(url: str, district: str, connector: dict[str, Any]) -> dict[str, Any]:
    """A plain one-source PowerSchool configuration: product defaults (hold thresholds,
    circuit breakers, connector retries), except what ``connector`` overrides."""
    source: dict[str, Any] = {
        "name": "sis",
        "app": "powerschool",
        "delivery": {
            "url": url,
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": f"env:{SECRET_ENV}",
        },
        "advanced": {"compare_by_uniqueness": False},
    }
    if connector:
        source["connector"] = connector
    return {"district": district, "sources": [source]}


def make_config(url: str, district: str, connector: dict[str, Any]) -> DistrictConfig:
    return validate_config(config_body(url, district, connector), "fault campaign")


# ----------------------------------------------------------------------------- tallies


RUN_KEYS = ("attempted", "published", "unchanged", "held", "failed")
LOSS_KEYS = ("records_lost", "wrongly_deleted", "partial_versions")


def new_tally() -> dict[str, Any]:
    return dict.fromkeys((*RUN_KEYS, *LOSS_KEYS, "stale"), 0)


def add_run(tally: dict[str, Any], outcome: str, check: Check | None) -> None:
    tally["attempted"] += 1
    tally[outcome] += 1
    if check is not None:
        tally["records_lost"] += check.lost
        tally["wrongly_deleted"] += check.wrongly_deleted
        tally["partial_versions"] += check.partial_versions
        tally["stale"] += check.stale


def run_row(outcome: str, check: Check | None, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"outcome": outcome, **extra}
    if check is not None:
        row.update(
            lost=check.lost,
            wrongly_deleted=check.wrongly_deleted,
            partial_versions=check.partial_versions,
            stale=check.stale,
            versions=[check.version_before, check.version_after],
        )
        if check.lost_by_entity:
            row["lost_by_entity"] = check.lost_by_entity
    return row


def short(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= 240 else text[:237] + "…"


# ----------------------------------------------------------------------------- fault cases


@dataclasses.dataclass(frozen=True)
class FaultCase:
    """A simulator fault: settings at the start of the run and/or a switch at a request."""

    name: str
    faults: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Faults switched on mid-extraction, at a share of the clean run's requests.
    mid: dict[str, Any] | None = None
    #: For ``mid``: switched off again after this share of the clean run's requests.
    window: float | None = None
    throttle_status: int = 429
    down: str | None = None  # "start" or "mid"
    #: Runs per --runs: the mid-extraction cases try twice as many switch points.
    repeat: int = 1


FAULT_CASES = (
    FaultCase("clean"),
    FaultCase("latency", {"latency_ms": 25}),
    FaultCase("errors", {"error_rate": 0.2, "error_statuses": [500, 503]}),
    FaultCase("throttle_429", {"min_interval_ms": 40}),
    FaultCase("throttle_503", {"min_interval_ms": 40}, throttle_status=503),
    FaultCase("token_expiry", {"token_max_requests": 20}),
    FaultCase("truncated", {"truncate_rate": 0.1}),
    FaultCase("outage_start", {"outage": True}),
    FaultCase("outage_mid", mid={"outage": True}, repeat=2),
    FaultCase("outage_window", mid={"outage": True}, window=0.15, repeat=2),
    FaultCase("server_down", down="start"),
    FaultCase("server_down_mid", down="mid"),
)


def points(rng: random.Random, runs: int) -> list[float]:
    """Shares of the extraction at which to switch a fault on: spread over it, jittered."""
    return [min(0.97, max(0.02, (i + rng.random()) / runs)) for i in range(runs)]


def in_process_run(store: Store, config: DistrictConfig, settings: Settings) -> tuple[str, str]:
    try:
        outcome = sync_config(store, config, settings)
    except RostersyncError as exc:
        return "failed", short(exc)
    except Exception as exc:  # an unexpected crash is a failed run too, named as such
        return "failed", "unexpected " + short(exc)
    if outcome.status == "held":
        return "held", "; ".join(outcome.hold_reasons)[:240]
    return ("unchanged" if outcome.unchanged else "published"), ""


def run_fault_case(
    case: FaultCase, store_url: str, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    rng = random.Random(f"{args.seed}:{case.name}")
    district = generate_district("small", seed=args.seed, students=args.size)
    sim = FaultySimulator(district, args.seed)
    sim.start()
    store = open_store(store_url)
    settings = Settings(data_dir=workdir / "var", database_url=store_url, log_level="WARNING")
    config = make_config(sim.url, "Fault Campaign", connector_options(args))
    tally = new_tally()
    rows: list[dict[str, Any]] = []
    try:
        started = sim.requests
        outcome, error = in_process_run(store, config, settings)
        clean_requests = sim.requests - started
        district_id = store.get_district("Fault Campaign").id
        truth = ground_truth(sim.district)
        baseline = check_store(store, district_id, truth, None)
        calibration = {
            "outcome": outcome,
            "error": error or None,
            "requests": clean_requests,
            "truth_records": count(truth),
            "missing": baseline.lost_by_entity,
            "exact": baseline.lost == 0
            and not count(minus(served(store, district_id, baseline.version_after), truth)),
        }
        for share in points(rng, args.runs * case.repeat):
            sim.next_day()
            truth = ground_truth(sim.district)
            before = store.current_version(district_id)
            sim.set_faults(**case.faults)
            sim.sim.config.throttle_status = case.throttle_status
            at = max(1, round(share * clean_requests))
            detail: dict[str, Any] = {"day": sim.district.day}
            if case.mid is not None:
                sim.switch_at(at, **case.mid)
                detail["switch_at_request"] = at
                if case.window is not None:
                    off = at + max(1, round(case.window * clean_requests))
                    sim.switch_at(off, **dict.fromkeys(case.mid, False))
                    detail["switch_off_at_request"] = off
            if case.down == "start":
                sim.stop()
            elif case.down == "mid":
                sim.down_at(at)
                detail["down_at_request"] = at
            first = sim.requests
            t0 = time.perf_counter()
            outcome, error = in_process_run(store, config, settings)
            detail["seconds"] = round(time.perf_counter() - t0, 2)
            detail["requests"] = sim.requests - first
            sim.clear()
            check = check_store(store, district_id, truth, before)
            add_run(tally, outcome, check)
            rows.append(run_row(outcome, check, error=error or None, **detail))
            progress(f"{case.name}: {outcome} lost={check.lost} {error[:100]}")
        # A clean run afterwards must bring the store back to the truth.
        truth = ground_truth(sim.district)
        before = store.current_version(district_id)
        outcome, error = in_process_run(store, config, settings)
        check = check_store(store, district_id, truth, before)
        recovery = {
            "outcome": outcome,
            "error": error or None,
            "missing_after": count(minus(truth, served(store, district_id, check.version_after))),
            "stale_after": check.stale,
        }
    finally:
        store.dispose()
        sim.stop()
    return {**tally, "calibration": calibration, "runs": rows, "recovery": recovery}


def connector_options(args: argparse.Namespace) -> dict[str, Any]:
    """Product defaults, except a shorter longest backoff in --quick mode (same retry count)."""
    return {"backoff_max_seconds": args.backoff_max} if args.backoff_max is not None else {}


# ----------------------------------------------------------------------------- subprocess runs


def cli_env(store_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTERSYNC_")}
    env.update(
        ROSTERSYNC_DATABASE_URL=store_url,
        ROSTERSYNC_DATA_DIR=str(data_dir),
        ROSTERSYNC_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def write_config(path: Path, url: str, district: str, args: argparse.Namespace) -> Path:
    body = config_body(url, district, connector_options(args))
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path


def start_cli_run(config: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "rostersync", "sync", "run", "--config", str(config), "--json"]
    return subprocess.Popen(
        [*cmd, *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def recovery_flags(args: argparse.Namespace) -> tuple[str, ...]:
    """``sync run`` options for the run after a fault: none (it must work at once), or queue
    behind a stale lock for up to ``--recovery-wait`` seconds."""
    return ("--queue", "--wait-seconds", str(args.recovery_wait)) if args.recovery_wait else ()


def cli_outcome(proc: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return "failed", f"no answer within {timeout:.0f} s"
    if proc.returncode == 0:
        try:
            unchanged = bool(json.loads(out).get("unchanged"))
        except ValueError:
            unchanged = False
        return ("unchanged" if unchanged else "published"), ""
    if proc.returncode == 10:
        return "held", ""
    lines = [line for line in (err + out).strip().splitlines() if line.strip()]
    return "failed", f"exit {proc.returncode}: " + (lines[-1][:200] if lines else "")


def stuck_runs(store: Store, district_id: int) -> int:
    """Runs of the district still marked running/publishing with no run going on."""
    return sum(
        r.status in ("pending", "running", "publishing") for r in store.list_runs(district_id)
    )


@dataclasses.dataclass
class Timing:
    """A clean ``sync run`` subprocess, seen from the simulator: seconds from the start to its
    first and last API request and to its exit, and how many requests it made."""

    outcome: str
    first_request_s: float
    last_request_s: float
    total_s: float
    requests: int


def timed_cli_run(path: Path, env: dict[str, str], sim: FaultySimulator, timeout: float) -> Timing:
    start, t0 = sim.requests, time.perf_counter()
    proc = start_cli_run(path, env)
    first = last = None
    seen = start
    while proc.poll() is None and time.perf_counter() - t0 < timeout:
        now, n = time.perf_counter() - t0, sim.requests
        if n != seen:
            first = now if first is None else first
            last, seen = now, n
        time.sleep(0.005)
    outcome, _ = cli_outcome(proc, 1)
    total = time.perf_counter() - t0
    return Timing(outcome, first or 0.0, last or 0.0, total, sim.requests - start)


def strike_moment(rng: random.Random, i: int, timing: Timing) -> tuple[str, int, float]:
    """Where the i-th strike lands: alternately during the extraction (at a random API request)
    and after it (a random delay after the last request: pipeline, change checks, publish)."""
    if i % 2 == 0:
        return "extract", rng.randint(1, max(1, timing.requests - 1)), 0.0
    return (
        "publish",
        max(1, timing.requests - 1),
        rng.uniform(0, timing.total_s - timing.last_request_s),
    )


def strike_when(
    proc: subprocess.Popen[str],
    sim: FaultySimulator,
    start: int,
    request: int,
    delay: float,
    strike: Callable[[], None],
    timeout: float,
) -> float | None:
    """Call ``strike`` once the run made ``request`` API requests and ``delay`` more seconds
    went by, if it is still running; returns the seconds since the start, or None."""
    t0 = time.perf_counter()
    while proc.poll() is None and sim.requests - start < request:
        if time.perf_counter() - t0 > timeout:
            break
        time.sleep(0.002)
    if delay:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=delay)
    if proc.poll() is not None:
        return None
    strike()
    return round(time.perf_counter() - t0, 3)


def run_kill_case(store_url: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """``rostersync sync run`` killed with SIGKILL at random moments, each in a district of its
    own (one store), then the next run of every district, which must recover."""
    rng = random.Random(f"{args.seed}:kill")
    district = generate_district("small", seed=args.seed, students=args.size)
    sim = FaultySimulator(district, args.seed)
    sim.start()
    data_dir = workdir / "kill-var"
    env = cli_env(store_url, data_dir)
    settings = Settings(data_dir=data_dir, database_url=store_url, log_level="WARNING")
    store = open_store(store_url)
    tally = new_tally()
    rows: list[dict[str, Any]] = []
    killed: list[tuple[str, Path, int]] = []
    try:
        # A clean subprocess run with changes to publish, timed: the kills fall within one.
        name = "Kill Timing"
        in_process_run(store, make_config(sim.url, name, connector_options(args)), settings)
        sim.next_day()
        path = write_config(workdir / "kill-timing.yaml", sim.url, name, args)
        timing = timed_cli_run(path, env, sim, args.run_timeout)
        for i in range(args.runs):
            name = f"Kill {i}"
            config = make_config(sim.url, name, connector_options(args))
            in_process_run(store, config, settings)  # version 1 of this district
            district_id = store.get_district(name).id
            sim.next_day()
            truth = ground_truth(sim.district)
            before = store.current_version(district_id)
            path = write_config(workdir / f"kill-{i}.yaml", sim.url, name, args)
            phase, request, delay = strike_moment(rng, i, timing)
            start = sim.requests
            proc = start_cli_run(path, env)
            at = strike_when(
                proc,
                sim,
                start,
                request,
                delay,
                functools.partial(os.killpg, proc.pid, signal.SIGKILL),
                args.run_timeout,
            )
            outcome, error = cli_outcome(proc, args.run_timeout)
            if at is not None:
                outcome, error = "failed", "killed"
            check = check_store(store, district_id, truth, before)
            add_run(tally, outcome, check)
            rows.append(
                run_row(
                    outcome,
                    check,
                    error=error or None,
                    phase=phase,
                    at_request=request,
                    killed_after_s=at,
                )
            )
            progress(f"kill {i} ({phase}, request {request}, at {at}): {outcome} lost={check.lost}")
            killed.append((name, path, district_id))
        # The next run of every killed district: at once (no waiting), or queued behind a
        # stale lock for up to --recovery-wait seconds; all districts concurrently.
        extra = recovery_flags(args)
        truth = ground_truth(sim.district)
        befores = {d: store.current_version(d) for _, _, d in killed}
        t0 = time.perf_counter()
        procs = [(d, start_cli_run(p, env, *extra)) for _, p, d in killed]
        recovery: list[dict[str, Any]] = []
        for district_id, proc in procs:
            outcome, error = cli_outcome(proc, args.recovery_wait + args.run_timeout)
            check = check_store(store, district_id, truth, befores[district_id])
            add_run(tally, outcome, check)
            recovery.append(
                run_row(
                    outcome,
                    check,
                    error=error or None,
                    seconds=round(time.perf_counter() - t0, 1),
                    missing_after=count(
                        minus(truth, served(store, district_id, check.version_after))
                    ),
                    stuck_runs_after=stuck_runs(store, district_id),
                )
            )
            progress(f"kill recovery: {outcome} {error[:100]}")
    finally:
        store.dispose()
        sim.stop()
    return {
        **tally,
        "clean_run": dataclasses.asdict(timing),
        "runs": rows,
        "recovery": recovery,
        "recovered": sum(r["outcome"] in ("published", "unchanged", "held") for r in recovery),
    }


def run_db_restart_case(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """``rostersync sync run`` subprocesses whose PostgreSQL (a private cluster) restarts under
    them — a crash (``-m immediate``) and a clean stop (``-m fast``) in turn — then the run
    after each, which must work."""
    cluster = PrivateCluster(Path(tempfile.mkdtemp(prefix="rs-faults-pg-")))
    rng = random.Random(f"{args.seed}:db_restart")
    cluster.init()
    district = generate_district("small", seed=args.seed, students=args.size)
    sim = FaultySimulator(district, args.seed)
    sim.start()
    data_dir = workdir / "restart-var"
    env = cli_env(cluster.url, data_dir)
    settings = Settings(data_dir=data_dir, database_url=cluster.url, log_level="WARNING")
    tally = new_tally()
    rows: list[dict[str, Any]] = []
    try:
        name = "DB Restart Timing"
        store = open_store(cluster.url)
        in_process_run(store, make_config(sim.url, name, connector_options(args)), settings)
        store.dispose()
        sim.next_day()
        path = write_config(workdir / "restart-timing.yaml", sim.url, name, args)
        timing = timed_cli_run(path, env, sim, args.run_timeout)
        for i in range(args.runs):
            # A district of its own per restart, so a lock left behind by one run does not
            # block the next restart's run.
            name = f"DB Restart {i}"
            store = open_store(cluster.url)
            in_process_run(store, make_config(sim.url, name, connector_options(args)), settings)
            district_id = store.get_district(name).id
            store.dispose()
            path = write_config(workdir / f"restart-{i}.yaml", sim.url, name, args)
            sim.next_day()
            truth = ground_truth(sim.district)
            store = open_store(cluster.url)
            before = store.current_version(district_id)
            store.dispose()
            phase, request, delay = strike_moment(rng, i, timing)
            mode = ("immediate", "fast")[(i // 2) % 2]
            start = sim.requests
            proc = start_cli_run(path, env)
            at = strike_when(
                proc, sim, start, request, delay, functools.partial(cluster.restart, mode), 120
            )
            outcome, error = cli_outcome(proc, args.run_timeout)
            store = open_store(cluster.url)
            check = check_store(store, district_id, truth, before)
            after = store.current_version(district_id)
            store.dispose()
            # The run after must work at once (or within --recovery-wait).
            extra = recovery_flags(args)
            t_next = time.perf_counter()
            next_proc = start_cli_run(path, env, *extra)
            next_outcome, next_error = cli_outcome(next_proc, args.recovery_wait + args.run_timeout)
            next_seconds = time.perf_counter() - t_next
            store = open_store(cluster.url)
            next_check = check_store(store, district_id, truth, after)
            stuck = stuck_runs(store, district_id)
            store.dispose()
            add_run(tally, outcome, check)
            add_run(tally, next_outcome, next_check)
            rows.append(
                run_row(
                    outcome,
                    check,
                    error=error or None,
                    phase=phase,
                    at_request=request,
                    restarted_after_s=at,
                    mode=mode,
                )
                | {
                    "next_run": run_row(
                        next_outcome,
                        next_check,
                        error=next_error or None,
                        seconds=round(next_seconds, 1),
                    ),
                    "stuck_runs": stuck,
                }
            )
            progress(
                f"db restart {i} ({mode}, {phase}, at {at}): {outcome} lost={check.lost} "
                f"{error[:80]}; next {next_outcome} {next_error[:80]}"
            )
    finally:
        sim.stop()
        cluster.stop("fast")
        shutil.rmtree(cluster.root, ignore_errors=True)
    return {**tally, "clean_run": dataclasses.asdict(timing), "runs": rows}


# ----------------------------------------------------------------------------- main


def worth_showing(row: dict[str, Any]) -> bool:
    """Without --details: only the runs that lost records or left the district stuck."""
    after = row.get("next_run") or {}
    return bool(
        row.get("lost")
        or row.get("partial_versions")
        or row.get("stuck_runs")
        or after.get("lost")
        or after.get("outcome") == "failed"
    )


def summarise(cases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    total = new_tally()
    for result in cases.values():
        for key in total:
            total[key] += result.get(key, 0)
    return total


def brief(result: dict[str, Any]) -> dict[str, Any]:
    return {k: result[k] for k in (*RUN_KEYS, *LOSS_KEYS, "stale") if k in result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Small and short: a few minutes.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=None, help="Faulty runs per case.")
    parser.add_argument("--size", type=int, default=None, help="Students in the district.")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(PG_ENV),
        help=f"PostgreSQL URL (default ${PG_ENV}); each case gets a fresh schema.",
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-db-restart", action="store_true")
    parser.add_argument("--cases", default="", help="Comma-separated case names (default all).")
    parser.add_argument(
        "--recovery-wait",
        type=float,
        default=None,
        help="Seconds the run after a kill may queue behind a stale lock (0 = try once).",
    )
    parser.add_argument(
        "--backoff-max",
        type=float,
        default=None,
        help="Connector backoff_max_seconds (default: the product's, 2 with --quick).",
    )
    parser.add_argument("--run-timeout", type=float, default=300.0)
    parser.add_argument("--details", action="store_true", help="Every run's row in the JSON.")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="Exit with status 1 when any record was lost or any published version was partial.",
    )
    args = parser.parse_args()
    args.runs = args.runs or (2 if args.quick else 8)
    args.size = args.size or (800 if args.quick else 2000)
    if args.recovery_wait is None:
        args.recovery_wait = 0.0 if args.quick else 200.0
    if args.backoff_max is None and args.quick:
        args.backoff_max = 2.0
    wanted = {c for c in args.cases.split(",") if c}
    os.environ[SECRET_ENV] = DEFAULT_CLIENT_SECRET
    configure_logging("ERROR")
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel("WARNING")

    stores: list[tuple[str, Callable[[Path, str], contextlib.AbstractContextManager[str]]]] = [
        ("sqlite", sqlite_store)
    ]
    if args.postgres and not args.no_postgres:
        with pg_schema(args.postgres):  # fail now, not after the SQLite half of the campaign
            pass
        stores.append(("postgres", lambda _w, _n: pg_schema(args.postgres)))

    started = time.perf_counter()
    cases: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="rs-faults-") as tmp:
        workdir = Path(tmp)
        for store_name, make_store in stores:
            for case in FAULT_CASES:
                if wanted and case.name not in wanted:
                    continue
                key = f"{case.name}/{store_name}"
                progress(f"{key} …")
                t0 = time.perf_counter()
                with make_store(workdir, case.name) as url:
                    cases[key] = run_fault_case(case, url, args, workdir)
                cases[key]["seconds"] = round(time.perf_counter() - t0, 1)
            if not wanted or "kill" in wanted:
                key = f"kill/{store_name}"
                progress(f"{key} …")
                t0 = time.perf_counter()
                with make_store(workdir, "kill") as url:
                    cases[key] = run_kill_case(url, args, workdir)
                cases[key]["seconds"] = round(time.perf_counter() - t0, 1)
        if not args.no_db_restart and (not wanted or "db_restart" in wanted):
            if shutil.which("initdb") or Path("/usr/local/bin/initdb").exists():
                progress("db_restart/postgres-private …")
                t0 = time.perf_counter()
                cases["db_restart/postgres-private"] = run_db_restart_case(args, workdir)
                cases["db_restart/postgres-private"]["seconds"] = round(time.perf_counter() - t0, 1)
            else:
                progress("db_restart skipped: no initdb on PATH")
    if not args.details:
        for result in cases.values():
            result["runs"] = [r for r in result["runs"] if worth_showing(r)]
    emit(
        {
            "benchmark": "faults",
            "total": summarise(cases),
            "by_case": {k: brief(v) for k, v in cases.items()},
            "cases": cases,
            "settings": {
                "seed": args.seed,
                "runs": args.runs,
                "students": args.size,
                "quick": args.quick,
                "connector": connector_options(args) or "product defaults",
                "recovery_wait_s": args.recovery_wait,
                "stores": [s for s, _ in stores],
            },
            "seconds": round(time.perf_counter() - started, 1),
            "load_average_1m": load_average(),
            "machine": machine(),
        }
    )
    total = summarise(cases)
    if args.strict and (total["records_lost"] or total["partial_versions"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
