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

then times ``export oneroster-csv`` (1.2 bulk). Prints JSON: requests/s, p50/p99 latency per
scenario, the deep/shallow latency ratio, and the export time.

    .venv/bin/python bench/oneroster_api.py --students 1000000 --pg postgresql+psycopg://…/db
    .venv/bin/python bench/oneroster_api.py --students 20000          # quick, SQLite
    .venv/bin/python bench/oneroster_api.py --students 1000000 --db postgresql+psycopg://…/own_db
        # publishes into own_db once; later runs with the same --db and --students reuse it
"""

from __future__ import annotations

import argparse
import asyncio
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
    seconds: float,
    rate: float | None = None,
) -> dict[str, Any]:
    """Send requests for ``seconds`` from ``concurrency`` keep-alive connections.

    Closed loop by default (each connection sends its next request when the last is
    answered). With ``rate``, open loop: requests are due at a fixed total rate, spread over
    the connections, and each latency counts from when the request was due, so time spent
    queued behind a slow answer is measured instead of hidden.

    A minimal HTTP/1.1 client (a few lines over asyncio streams) rather than httpx: the load
    generator shares the cores with the server, and httpx spends more CPU per request than the
    provider does, which would measure the client instead of the server.
    """
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    def request(path: str) -> bytes:
        return (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n"
        ).encode()

    encoded = [request(p) for p in paths]
    start = time.perf_counter()

    async def worker(seed: int) -> None:
        nonlocal errors
        rnd = random.Random(seed)
        reader, writer = await asyncio.open_connection(host, int(port))
        sent = 0
        try:
            while time.perf_counter() < deadline:
                req = rnd.choice(encoded)
                t0 = time.perf_counter()
                if rate is not None:
                    t0 = start + (sent * concurrency + seed) / rate
                    sent += 1
                    if t0 >= deadline:
                        break
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20_000)
    parser.add_argument("--pg", default=os.environ.get("ROSTERSYNC_TEST_POSTGRES_URL"))
    parser.add_argument("--seconds", type=float, default=10.0, help="Load per scenario.")
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

    out: dict[str, Any] = {
        "benchmark": "oneroster_api",
        "students": args.students,
        "backend": "postgresql" if (args.db or args.pg or "").startswith("postgres") else "sqlite",
        "concurrency": args.concurrency,
        "rate": args.rate,
        "server_workers": args.workers,
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
        deadline = time.monotonic() + 180
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
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

        def run(paths: list[str]) -> dict[str, Any]:
            progress(f"load: {paths[0]} …")
            # Warm up: every worker process reads the collection's IDs once per version. As
            # many connections as the load itself, so the kernel hands some to every worker.
            asyncio.run(drive(base, token, paths[:20], args.concurrency, 3.0))
            result = asyncio.run(
                drive(base, token, paths, args.concurrency, args.seconds, args.rate)
            )
            result["load_average_1m"] = load_average()
            progress(f"  {result}")
            return result

        if args.only in (None, "paged"):
            out["users_paged_whole_range"] = run(whole)
            out["users_paged_shallow"] = run(shallow)
            out["users_paged_deep"] = run(deep)
            out["deep_over_shallow_p50"] = round(
                out["users_paged_deep"]["p50_ms"] / out["users_paged_shallow"]["p50_ms"], 2
            )
        if args.only in (None, "class_students"):
            out["class_students"] = run(nested)
        if args.only in (None, "filter_familyName"):
            out["users_filter_familyName"] = run(filtered)
        if args.only in (None, "filter_dateLastModified"):
            out["users_filter_dateLastModified"] = run(polls)
    finally:
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
