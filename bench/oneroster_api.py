"""Benchmark of the OneRoster provider and the CSV export on a synthetic district of any size.

Generates a canonical district (columnar), publishes it into a store (a throwaway PostgreSQL
schema with ``--pg URL`` or ROSTERSYNC_TEST_POSTGRES_URL, else a SQLite file), issues an API
client, starts ``rostersync serve`` in a second process, and drives load from this process with
concurrent HTTP clients:

- ``GET /users?limit=100`` at random shallow offsets and at deep offsets (last 10 %, including
  offset 900,000 when the district is that big),
- ``GET /classes/{id}/students`` for random classes,
- ``GET /users?filter=familyName='…'`` for random family names,
- ``GET /users?filter=dateLastModified>'T'`` at random offsets, where T lies between the
  district's first publish and a second one that changed 1 % of the users (0.9 % updated,
  0.1 % deleted, served as ``tobedeleted``): an incremental consumer's poll,

then times ``export oneroster-csv`` (1.2 bulk).

Reproducible by construction: before the load, the store's tables and indexes are loaded into
PostgreSQL's buffers (``pg_prewarm`` when the extension can be created, else a sequential read
of every table); each scenario then gets ``--warmup`` requests over its own paths and
connections (filling the workers' ID and row caches as that load would), and is measured
``--repeats`` times for exactly ``--requests`` requests each. A bare ASGI app on the same server
set-up (``bench/_ceiling.py``: uvicorn, same workers and options, same load generator and
connections) answers with real pages of the same scenario from memory, run back to back with
the provider (alternating which goes first); the provider's requests/s is reported as a ratio
to it. Prints JSON: the git commit, load averages, per scenario the runs, median and spread
(min–max) of requests/s and p50/p99 latency for the provider and the ceiling, the ratio, the
deep/shallow latency ratio, and the export time.

    .venv/bin/python bench/oneroster_api.py --students 1000000 --pg postgresql+psycopg://…/db
    .venv/bin/python bench/oneroster_api.py --students 20000          # quick, SQLite
    .venv/bin/python bench/oneroster_api.py --students 1000000 --db postgresql+psycopg://…/own_db
        # publishes into own_db once; later runs with the same --db and --students reuse it
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
import polars as pl
import sqlalchemy as sa

from _common import Phases, emit, load_average, machine, peak_rss_mb, progress
from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.csv_export import write_package
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.model import Roster, conform, empty_roster
from rostersync.settings import load_settings
from rostersync.store import open_store

V12 = "/ims/oneroster/rostering/v1p2"
#: Distinct real pages per scenario the ceiling app holds (and is driven over).
CEILING_PAGES = 200
SCOPES = ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly")


def generate(students: int, seed: int = 11) -> Roster:
    """A district: schools of ~800 students, 6 classes per student, 25 students per class."""
    rng = np.random.default_rng(seed)
    schools = max(1, students // 800)
    classes = max(1, students // 25 * 6 // 6)
    teachers = max(1, classes // 5)
    per_school_classes = max(1, classes // schools)
    roster = empty_roster()

    def base(prefix: str, n: int) -> dict[str, Any]:
        ids = pl.Series([f"{prefix}{i:07d}" for i in range(n)])
        return {"sourcedId": ids, "status": "active", "source": "sis", "sourceId": ids}

    roster["orgs"] = conform(
        "orgs",
        pl.DataFrame(
            {
                **base("org-", schools + 1),
                "name": [f"School {i}" for i in range(schools + 1)],
                "type": ["district"] + ["school"] * schools,
                "parentSourcedId": [None] + ["org-0000000"] * schools,
            }
        ),
    )
    school_ids = [f"org-{i + 1:07d}" for i in range(schools)]
    roster["academicSessions"] = conform(
        "academicSessions",
        pl.DataFrame(
            {
                **base("as-", 3),
                "title": ["2025-2026", "Fall", "Spring"],
                "type": ["schoolYear", "term", "term"],
                "startDate": pl.Series(["2025-08-20", "2025-08-20", "2026-01-05"]).str.to_date(),
                "endDate": pl.Series(["2026-06-10", "2025-12-20", "2026-06-10"]).str.to_date(),
                "parentSourcedId": [None, "as-0000000", "as-0000000"],
                "schoolYear": ["2026"] * 3,
            }
        ),
    )
    course_school = [school_ids[i % schools] for i in range(schools * 20)]
    roster["courses"] = conform(
        "courses",
        pl.DataFrame(
            {
                **base("c-", schools * 20),
                "title": [f"Course {i}" for i in range(schools * 20)],
                "orgSourcedId": course_school,
            }
        ),
    )
    class_school_idx = np.arange(classes) % schools
    roster["classes"] = conform(
        "classes",
        pl.DataFrame(
            {
                **base("k-", classes),
                "title": [f"Class {i}" for i in range(classes)],
                "courseSourcedId": [f"c-{(i % (schools * 20)):07d}" for i in range(classes)],
                "classType": "scheduled",
                "schoolSourcedId": [school_ids[i] for i in class_school_idx],
                "termSourcedIds": [["as-0000001"]] * classes,
            }
        ),
    )
    names = np.array([f"Family{i:04d}" for i in range(2000)])
    student_school = rng.integers(0, schools, students)
    people = students + teachers
    roles = np.array(["student"] * students + ["teacher"] * teachers)
    user_school = np.concatenate([student_school, np.arange(teachers) % schools])
    roster["users"] = conform(
        "users",
        pl.DataFrame(
            {
                **base("u-", people),
                "enabledUser": True,
                "username": [f"user{i}" for i in range(people)],
                "givenName": [f"Given{i % 500}" for i in range(people)],
                "familyName": names[rng.integers(0, len(names), people)],
                "role": roles,
                "orgSourcedIds": [[school_ids[s]] for s in user_school],
                "primaryOrgSourcedId": [school_ids[s] for s in user_school],
                "email": [f"user{i}@example.org" for i in range(people)],
            }
        ),
    )
    # each student: 6 classes of their school; each class: one teacher
    picks = rng.integers(0, per_school_classes, (students, 6))
    class_of = (picks * schools + student_school[:, None]) % classes
    n_enr = students * 6
    roster["enrollments"] = conform(
        "enrollments",
        pl.concat(
            [
                pl.DataFrame(
                    {
                        **base("e-", n_enr),
                        "classSourcedId": [f"k-{c:07d}" for c in class_of.ravel()],
                        "schoolSourcedId": [school_ids[s] for s in np.repeat(student_school, 6)],
                        "userSourcedId": [f"u-{u:07d}" for u in np.repeat(np.arange(students), 6)],
                        "role": "student",
                    }
                ),
                pl.DataFrame(
                    {
                        "sourcedId": [f"et-{i:07d}" for i in range(classes)],
                        "status": "active",
                        "source": "sis",
                        "sourceId": [f"et-{i:07d}" for i in range(classes)],
                        "classSourcedId": [f"k-{i:07d}" for i in range(classes)],
                        "schoolSourcedId": [school_ids[i] for i in class_school_idx],
                        "userSourcedId": [
                            f"u-{students + i % teachers:07d}" for i in range(classes)
                        ],
                        "role": "teacher",
                        "primary": True,
                    }
                ),
            ],
            how="diagonal_relaxed",
        ),
    )
    return roster


def one_percent_changed(roster: Roster, seed: int = 12) -> Roster:
    """The next day: 0.9 % of the users renamed, 0.1 % gone (the rest of the roster as is)."""
    users = roster["users"]
    rng = np.random.default_rng(seed)
    pick = rng.permutation(users.height)
    renamed = pl.Series(np.sort(pick[: users.height * 9 // 1000]))
    gone = pl.Series(np.sort(pick[users.height * 9 // 1000 : users.height // 100]))
    index = pl.int_range(pl.len())
    changed = users.with_columns(
        pl.when(index.is_in(renamed.implode()))
        .then(pl.col("familyName") + "-renamed")
        .otherwise(pl.col("familyName"))
        .alias("familyName")
    ).filter(~index.is_in(gone.implode()))
    return {**roster, "users": changed}


def iso_ms(value: Any) -> str:
    """A timestamp as OneRoster shows it (UTC, milliseconds, ``Z``)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """One keep-alive HTTP/1.1 GET on an open connection; the status code."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def drive(
    base: str,
    token: str,
    paths: list[str],
    concurrency: int,
    requests: int,
    rate: float | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Send exactly ``requests`` requests (split over ``concurrency`` keep-alive connections).

    Closed loop by default (each connection sends its next request when the last is
    answered). With ``rate``, open loop: requests are due at a fixed total rate, spread over
    the connections, and each latency counts from when the request was due, so time spent
    queued behind a slow answer is measured instead of hidden.

    A fixed number of requests rather than a fixed time: every repeat does the same work, so
    repeats (and the provider against the ceiling) compare like with like.

    A minimal HTTP/1.1 client (a few lines over asyncio streams) rather than httpx: the load
    generator shares the cores with the server, and httpx spends more CPU per request than the
    provider does, which would measure the client instead of the server.
    """
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0

    def request(path: str) -> bytes:
        return (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n"
        ).encode()

    encoded = [request(p) for p in paths]
    share = [requests // concurrency + (i < requests % concurrency) for i in range(concurrency)]
    start = time.perf_counter()

    async def worker(index: int) -> None:
        nonlocal errors
        rnd = random.Random(seed * 1000 + index)
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for sent in range(share[index]):
                req = rnd.choice(encoded)
                t0 = time.perf_counter()
                if rate is not None:
                    t0 = start + (sent * concurrency + index) / rate
                    await asyncio.sleep(max(0.0, t0 - time.perf_counter()))
                try:
                    ok = await _get(reader, writer, req) == 200
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    ok = False
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
                latencies.append(time.perf_counter() - t0)
                errors += not ok
        finally:
            writer.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - start
    ms = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
    }


def wait_ready(base: str, process: subprocess.Popen[bytes], path: str = "/healthz") -> None:
    """Wait until a server started in ``process`` answers ``path``."""
    deadline = time.monotonic() + 180
    while True:
        try:
            httpx.get(f"{base}{path}", timeout=2)
            return
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server at {base} did not start") from None
            time.sleep(0.2)


def git_commit() -> str:
    """The commit measured (``+dirty`` when the worktree has uncommitted changes)."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def load_averages() -> list[float]:
    """The 1, 5 and 15-minute load averages now."""
    return [round(x, 2) for x in os.getloadavg()]


def prewarm(url: str) -> dict[str, Any]:
    """Load the store's tables and indexes into PostgreSQL's buffers (``pg_prewarm``), so the
    first scenario does not pay for reading them from disk; SQLite: read each table once."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name != "postgresql":
                for (name,) in conn.execute(
                    sa.text("SELECT name FROM sqlite_master WHERE type = 'table'")
                ):
                    conn.execute(sa.text(f'SELECT count(*) FROM "{name}"'))
                return {"method": "sqlite: count(*) over every table"}
            try:
                with conn.begin_nested():
                    conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
            except sa.exc.DBAPIError as exc:
                # Without the extension, a sequential read of every table brings it into the
                # buffers (or the OS cache) just as well; indexes then warm with the first pass.
                for (name,) in conn.execute(
                    sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                ):
                    conn.execute(sa.text(f'SELECT count(*) FROM "{name}"'))
                return {"method": "count(*) per table", "pg_prewarm": str(exc.orig)[:120]}
            blocks = conn.execute(
                sa.text(
                    "SELECT coalesce(sum(pg_prewarm(c.oid::regclass)), 0) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i')"
                )
            ).scalar_one()
            return {"method": "pg_prewarm (tables and indexes)", "blocks": int(blocks)}
    finally:
        engine.dispose()


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median and spread (min–max) of repeated runs."""
    out: dict[str, Any] = {"runs": runs}
    for key in ("rps", "p50_ms", "p99_ms"):
        values = [r[key] for r in runs]
        out[key] = round(float(np.median(values)), 2)
        out[f"{key}_spread"] = [min(values), max(values)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20_000)
    parser.add_argument("--pg", default=os.environ.get("ROSTERSYNC_TEST_POSTGRES_URL"))
    parser.add_argument(
        "--requests", type=int, default=3000, help="Measured requests per scenario and repeat."
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=2000,
        help="Requests per scenario sent (same paths, same connections) before measuring it.",
    )
    parser.add_argument("--repeats", type=int, default=3, help="Measured runs per scenario.")
    parser.add_argument(
        "--ceiling-requests",
        type=int,
        help="Measured requests per ceiling run (default 8 × --requests: the bare app answers "
        "an order of magnitude faster, and a run of under a second on a shared machine "
        "measures the machine's noise more than the app).",
    )
    parser.add_argument(
        "--seconds", type=float, help="Replaced by --requests (refused; see bench/README.md)."
    )
    parser.add_argument(
        "--no-ceiling", action="store_true", help="Skip the bare-ASGI ceiling runs."
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="Server worker processes.")
    parser.add_argument(
        "--rate",
        type=float,
        help="Open loop: requests/s in total, latency counted from when each was due "
        "(default: closed loop, as fast as the connections get answers).",
    )
    parser.add_argument(
        "--db",
        help="Store URL to keep and reuse (e.g. a PostgreSQL database of its own): the district "
        "is published there on the first run and served as it is on later runs.",
    )
    parser.add_argument(
        "--no-export", action="store_true", help="Skip the CSV export phase (load only)."
    )
    parser.add_argument(
        "--only",
        choices=["paged", "class_students", "filter_familyName", "filter_dateLastModified"],
        help="Run this load scenario only.",
    )
    args = parser.parse_args()
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be a positive number of requests per second")
    if args.seconds is not None:
        parser.error(
            "--seconds was replaced by --requests N (a fixed number of requests per run, "
            "after --warmup, --repeats times); figures recorded with --seconds before "
            "2026-12-02 came from timed single runs (commit 70bc261's parent and earlier)"
        )
    if args.ceiling_requests is None:
        args.ceiling_requests = 8 * args.requests
    if args.requests < args.concurrency or args.ceiling_requests < args.concurrency:
        parser.error("--requests and --ceiling-requests must be at least --concurrency")
    if args.requests < args.concurrency or args.repeats < 1 or args.warmup < 0:
        parser.error("--requests must be at least --concurrency, --repeats at least 1")

    out: dict[str, Any] = {
        "benchmark": "oneroster_api",
        "students": args.students,
        "backend": "postgresql" if (args.db or args.pg or "").startswith("postgres") else "sqlite",
        "concurrency": args.concurrency,
        "rate": args.rate,
        "server_workers": args.workers,
        "requests_per_run": args.requests,
        "ceiling_requests_per_run": args.ceiling_requests,
        "warmup_requests": args.warmup,
        "repeats": args.repeats,
        "git_commit": git_commit(),
        "load_average_start": load_averages(),
        "machine": machine(),
    }
    phases = Phases()
    work = Path(tempfile.mkdtemp(prefix="or_bench_"))
    schema = None
    url = None
    admin = None
    if args.db:
        url = args.db
    elif args.pg:
        schema = f"orbench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(args.pg)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in args.pg else "?"
        url = f"{args.pg}{sep}options={quote(f'-csearch_path={schema}')}"
    server = None
    ceiling: subprocess.Popen[bytes] | None = None
    try:
        settings = load_settings(data_dir=work / "var", database_url=url)
        with phases("generate"):
            roster = generate(args.students)
        out["rows"] = {k: v.height for k, v in roster.items() if v.height}
        store = open_store(settings, upgrade=True)
        name = f"Bench {args.students}"
        found = [d for d in store.list_districts() if d.name == name]
        district = found[0] if found else store.create_district(name)
        if store.current_version(district.id) is None:
            with phases("publish"):
                store.publish(district.id, roster)
        else:
            out["reused_store"] = True
        if store.current_version(district.id) == 1:
            with phases("publish_1pct_change"):
                store.publish(district.id, one_percent_changed(roster))
        newest = store.current_version(district.id)
        assert newest is not None
        # Between the version before the newest and the newest: what a poller asks for.
        since = store.get_version(district.id, newest - 1).created_at
        changed_since = store.diff_versions(district.id, newest - 1, newest)["users"]
        out["users_changed_since_T"] = changed_since.counts().changed
        issued = ApiClients(store.engine, settings.get_secret_key()).create(
            district.id, f"bench-{uuid.uuid4().hex[:8]}", SCOPES, SharingRules.everything()
        )
        if not args.no_export:
            out["load_average_1m_before_export"] = load_average()
            with phases("csv_export"):  # read the current version + write the zip
                current = store.read_version(district.id)
                result = write_package(work / "export.zip", current, "1.2")
            out["csv_rows"] = result.files
        store.dispose()

        port = free_port()
        env = {
            **os.environ,
            "ROSTERSYNC_DATA_DIR": str(work / "var"),
            "ROSTERSYNC_LOG_LEVEL": "WARNING",
        }
        if url:
            env["ROSTERSYNC_DATABASE_URL"] = url
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rostersync",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--no-access-log",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so its workers end with it
        )
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, server)
        token = httpx.post(
            f"{base}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(issued.client.client_id, issued.client_secret),
        ).json()["access_token"]

        users = roster["users"].height
        rnd = random.Random(5)
        # Many distinct pages (not a handful repeated), so the provider's per-version row cache
        # only helps as much as it would for real clients paging through a district.
        many = 20_000
        shallow = [
            f"{V12}/users?limit=100&offset={rnd.randrange(0, min(users, 10_000))}"
            for _ in range(many)
        ]
        deep_lo = max(0, int(users * 0.9) - 100)
        deep = [
            f"{V12}/users?limit=100&offset={rnd.randrange(deep_lo, max(deep_lo + 1, users - 100))}"
            for _ in range(many)
        ]
        if users > 900_100:
            deep.append(f"{V12}/users?limit=100&offset=900000")
        whole = [
            f"{V12}/users?limit=100&offset={rnd.randrange(0, max(1, users - 100))}"
            for _ in range(many)
        ]
        classes = roster["classes"]["sourcedId"].to_list()
        nested = [f"{V12}/classes/{rnd.choice(classes)}/students" for _ in range(many)]
        families = roster["users"]["familyName"].unique().to_list()
        filtered = [
            f"{V12}/users?filter={quote(f'familyName={chr(39)}{rnd.choice(families)}{chr(39)}')}"
            for _ in range(many)
        ]

        polled = out["users_changed_since_T"]
        flt = quote(f"dateLastModified>'{iso_ms(since)}'")
        polls = [
            f"{V12}/users?filter={flt}&limit=100&offset={rnd.randrange(0, max(1, polled - 100))}"
            for _ in range(many)
        ]

        if url:
            with phases("prewarm"):
                out["prewarm"] = prewarm(url)

        scenarios: dict[str, list[str]] = {}
        if args.only in (None, "paged"):
            scenarios |= {
                "users_paged_whole_range": whole,
                "users_paged_shallow": shallow,
                "users_paged_deep": deep,
            }
        if args.only in (None, "class_students"):
            scenarios["class_students"] = nested
        if args.only in (None, "filter_familyName"):
            scenarios["users_filter_familyName"] = filtered
        if args.only in (None, "filter_dateLastModified"):
            scenarios["users_filter_dateLastModified"] = polls

        ceiling_base = None
        if not args.no_ceiling:
            # Real pages of every scenario, captured from the provider, for the bare app.
            pages: dict[str, Any] = {}
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
                for paths in scenarios.values():
                    for path in paths[:CEILING_PAGES]:
                        answer = c.get(path, timeout=60)
                        answer.raise_for_status()
                        keep = ("x-total-count", "link")
                        pages[path] = {
                            "body": answer.text,
                            "headers": {k: v for k, v in answer.headers.items() if k in keep},
                        }
            (work / "pages.json").write_text(json.dumps(pages))
            ceiling_port = free_port()
            ceiling = subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__).with_name("_ceiling.py")),
                    "--port",
                    str(ceiling_port),
                    "--workers",
                    str(args.workers),
                    "--pages",
                    str(work / "pages.json"),
                ],
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
            ceiling_base = f"http://127.0.0.1:{ceiling_port}"
            wait_ready(ceiling_base, ceiling, path=next(iter(pages)))

        def once(target: str, paths: list[str], seed: int, count: int) -> dict[str, Any]:
            before = load_average()
            result = asyncio.run(
                drive(target, token, paths, args.concurrency, count, args.rate, seed)
            )
            result["load_average_1m"] = [before, load_average()]
            return result

        out["scenarios"] = {}
        for name, paths in scenarios.items():
            progress(f"{name}: {paths[0]} …")
            # Warm-up, stated: the same paths over the same connections (every worker reads
            # the collection's IDs once per version and fills its row cache as the load would).
            asyncio.run(drive(base, token, paths, args.concurrency, args.warmup, None, 99))
            provider_runs: list[dict[str, Any]] = []
            ceiling_runs: list[dict[str, Any]] = []
            ratios: list[float] = []
            if ceiling_base is not None:
                sample = paths[:CEILING_PAGES]
                asyncio.run(drive(ceiling_base, token, sample, args.concurrency, 200, None, 98))
            for repeat in range(args.repeats):
                # Ceiling and provider back to back, alternating which goes first.
                first_ceiling = repeat % 2 == 0
                if ceiling_base is not None and first_ceiling:
                    ceiling_runs.append(once(ceiling_base, sample, repeat, args.ceiling_requests))
                provider_runs.append(once(base, paths, repeat, args.requests))
                if ceiling_base is not None and not first_ceiling:
                    ceiling_runs.append(once(ceiling_base, sample, repeat, args.ceiling_requests))
                if ceiling_base is not None:
                    ratios.append(round(provider_runs[-1]["rps"] / ceiling_runs[-1]["rps"], 3))
                progress(f"  provider {provider_runs[-1]}")
                if ceiling_runs:
                    progress(f"  ceiling  {ceiling_runs[-1]}  ratio {ratios[-1]}")
            entry: dict[str, Any] = {"provider": summary(provider_runs)}
            if ceiling_runs:
                entry["ceiling"] = summary(ceiling_runs)
                entry["ratio_to_ceiling"] = round(float(np.median(ratios)), 3)
                entry["ratio_spread"] = [min(ratios), max(ratios)]
            out["scenarios"][name] = entry
        if "users_paged_deep" in out["scenarios"]:
            out["deep_over_shallow_p50"] = round(
                out["scenarios"]["users_paged_deep"]["provider"]["p50_ms"]
                / out["scenarios"]["users_paged_shallow"]["provider"]["p50_ms"],
                2,
            )
        out["load_average_end"] = load_averages()
    finally:
        if ceiling is not None:
            ceiling.terminate()
            try:
                ceiling.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(ceiling.pid, signal.SIGKILL)
                ceiling.wait(30)
        if server is not None:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(30)
        if admin is not None and schema is not None:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    out["seconds"] = phases.seconds
    out["cpu_seconds"] = phases.cpu_seconds
    out["peak_rss_mb"] = peak_rss_mb()
    emit(out)


if __name__ == "__main__":
    main()
