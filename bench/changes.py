"""Benchmark of change detection and versioned publishing on a mega-scale synthetic district.

Two "days" of canonical tables (generated column by column with numpy/Polars), the second with
about 1 % of records changed (updates, deletions, additions). Measures the columnar diff, the
first full publish and the publish of the 1 % change on SQLite and — with ``--pg URL`` or
ROSTERSYNC_TEST_POSTGRES_URL — on PostgreSQL (in a throwaway schema), and counts the roster rows
written by the change publish against the number of changed records. Prints JSON.

    .venv/bin/python bench/changes.py                 # mega: 1,000,000 students
    .venv/bin/python bench/changes.py --scale 0.05    # 50,000 students
    .venv/bin/python bench/changes.py --no-sqlite --pg ""   # the diff only

``*_cpu_seconds`` is this process's CPU time (both Polars threads), meaningful on a busy machine;
for PostgreSQL it excludes the server's own work, so wall time is the figure there.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import polars as pl
import sqlalchemy as sa

from _common import load_average, machine
from rostersync.changes.diff import diff_rosters
from rostersync.model import Roster, conform, empty_roster
from rostersync.store import Store, make_engine
from rostersync.store.plans import PublishPlan
from rostersync.store.schema import roster_table_name
from rostersync.sync.approval import publish_plan

MEGA_STUDENTS = 1_000_000
MEGA_SCHOOLS = 1_500


def _ids(prefix: str, n: int, start: int = 0) -> pl.Expr:
    return pl.format(prefix + "{}", pl.int_range(start, start + n))


def generate(students: int, schools: int, seed: int = 7) -> Roster:
    """Day one of a district: canonical tables, vectorised."""
    rng = np.random.default_rng(seed)
    roster = empty_roster()
    common = {"status": "active", "source": "sis"}

    def frame(n: int, **cols: Any) -> pl.DataFrame:
        base = pl.DataFrame({"i": np.arange(n, dtype=np.int64)})
        return base.select(
            *(v.alias(k) if isinstance(v, pl.Expr) else pl.lit(v).alias(k) for k, v in cols.items())
        )

    roster["orgs"] = conform(
        "orgs",
        pl.concat(
            [
                frame(
                    1, sourcedId=pl.lit("d1"), name=pl.lit("Mega District"), type=pl.lit("district")
                ),
                frame(
                    schools,
                    sourcedId=pl.format("s{}", pl.col("i")),
                    name=pl.format("School {}", pl.col("i")),
                    type=pl.lit("school"),
                    parentSourcedId=pl.lit("d1"),
                ),
            ],
            how="diagonal",
        ).with_columns(
            pl.lit("active").alias("status"),
            pl.lit("sis").alias("source"),
            pl.col("sourcedId").alias("sourceId"),
        ),
    )
    teachers = max(students // 16, 1)
    contacts = students
    n_users = students + teachers + contacts
    role = np.concatenate(
        [np.zeros(students, np.int8), np.ones(teachers, np.int8), np.full(contacts, 2, np.int8)]
    )
    school = rng.integers(0, schools, n_users)
    users = pl.DataFrame({"i": np.arange(n_users), "r": role, "s": school}).select(
        pl.format("u{}", pl.col("i")).alias("sourcedId"),
        pl.lit(common["status"]).alias("status"),
        pl.lit(common["source"]).alias("source"),
        pl.col("i").cast(pl.Utf8).alias("sourceId"),
        pl.lit(True).alias("enabledUser"),
        pl.format("user{}", pl.col("i")).alias("username"),
        pl.format("Given{}", pl.col("i") % 5003).alias("givenName"),
        pl.format("Family{}", pl.col("i") % 7919).alias("familyName"),
        pl.col("r").replace_strict({0: "student", 1: "teacher", 2: "guardian"}).alias("role"),
        pl.format("s{}", pl.col("s")).alias("primaryOrgSourcedId"),
        pl.concat_list(pl.format("s{}", pl.col("s"))).alias("orgSourcedIds"),
        pl.format("user{}@example.org", pl.col("i")).alias("email"),
        pl.when(pl.col("r") == 0)
        .then(pl.concat_list(pl.format("{}", pl.col("i") % 13)))
        .alias("grades"),
    )
    roster["users"] = conform("users", users)
    n_classes = max(students // 5, 1)
    class_school = rng.integers(0, schools, n_classes)
    roster["classes"] = conform(
        "classes",
        pl.DataFrame({"i": np.arange(n_classes), "s": class_school}).select(
            pl.format("c{}", pl.col("i")).alias("sourcedId"),
            pl.lit("active").alias("status"),
            pl.lit("sis").alias("source"),
            pl.col("i").cast(pl.Utf8).alias("sourceId"),
            pl.format("Class {}", pl.col("i")).alias("title"),
            pl.format("crs{}", pl.col("i") % 20_000).alias("courseSourcedId"),
            pl.lit("scheduled").alias("classType"),
            pl.format("s{}", pl.col("s")).alias("schoolSourcedId"),
            pl.concat_list(pl.lit("t1")).alias("termSourcedIds"),
        ),
    )
    per = 4
    n_enr = students * per
    student = np.repeat(np.arange(students), per)
    klass = rng.integers(0, n_classes, n_enr)
    roster["enrollments"] = conform(
        "enrollments",
        pl.DataFrame({"i": np.arange(n_enr), "u": student, "c": klass}).select(
            pl.format("e{}", pl.col("i")).alias("sourcedId"),
            pl.lit("active").alias("status"),
            pl.lit("sis").alias("source"),
            pl.col("i").cast(pl.Utf8).alias("sourceId"),
            pl.format("c{}", pl.col("c")).alias("classSourcedId"),
            pl.format("s{}", pl.col("c") % schools).alias("schoolSourcedId"),
            pl.format("u{}", pl.col("u")).alias("userSourcedId"),
            pl.lit("student").alias("role"),
        ),
    )
    roster["demographics"] = conform(
        "demographics",
        pl.DataFrame({"i": np.arange(students)}).select(
            pl.format("u{}", pl.col("i")).alias("sourcedId"),
            pl.lit("active").alias("status"),
            pl.lit("sis").alias("source"),
            pl.col("i").cast(pl.Utf8).alias("sourceId"),
            (pl.col("i") % 2 == 0).replace_strict({True: "female", False: "male"}).alias("sex"),
        ),
    )
    roster["userContacts"] = conform(
        "userContacts",
        pl.DataFrame({"i": np.arange(contacts)}).select(
            pl.format("uc{}", pl.col("i")).alias("sourcedId"),
            pl.lit("active").alias("status"),
            pl.lit("sis").alias("source"),
            pl.col("i").cast(pl.Utf8).alias("sourceId"),
            pl.format("u{}", pl.col("i")).alias("studentSourcedId"),
            pl.format("u{}", pl.col("i") + students + teachers).alias("contactSourcedId"),
            pl.lit("Guardian").alias("relationshipType"),
        ),
    )
    return roster


def next_day(day: Roster, fraction: float, seed: int = 11) -> Roster:
    """Day two: in every big table ``fraction`` of records change — 40 % of them updated,
    30 % deleted, 30 % added (new sourcedIds)."""
    rng = np.random.default_rng(seed)
    out = dict(day)
    for name in ("users", "classes", "enrollments", "demographics", "userContacts"):
        table = day[name]
        n = table.height
        k = int(n * fraction)
        pick = rng.permutation(n)[:k]
        upd, dele = pick[: int(k * 0.4)], pick[int(k * 0.4) : int(k * 0.7)]
        flag = np.zeros(n, np.int8)
        flag[upd] = 1
        flag[dele] = 2
        text_col = {
            "users": "familyName",
            "classes": "title",
            "enrollments": "role",
            "demographics": "sex",
            "userContacts": "relationshipType",
        }[name]
        t = table.with_columns(pl.Series("__f", flag))
        t = (
            t.with_columns(
                pl.when(pl.col("__f") == 1)
                .then(pl.col(text_col) + "-x")
                .otherwise(pl.col(text_col))
                .alias(text_col)
            )
            .filter(pl.col("__f") != 2)
            .drop("__f")
        )
        adds = table.head(k - int(k * 0.7)).with_columns(
            (pl.lit("n-") + pl.col("sourcedId")).alias("sourcedId")
        )
        out[name] = pl.concat([t, adds])
    return out


def _rows(roster: Roster) -> int:
    return sum(t.height for t in roster.values())


def _written(store: Store, district: int, version: int) -> int:
    """Roster rows the publish of ``version`` wrote: rows inserted plus rows closed."""
    total = 0
    with store.engine.connect() as conn:
        for name in day_entities:
            t = sa.table(
                roster_table_name(name),
                sa.column("district_id"),
                sa.column("valid_from"),
                sa.column("valid_to"),
            )
            total += conn.execute(
                sa.select(sa.func.count())
                .select_from(t)
                .where(t.c.district_id == district, t.c.valid_from == version)
            ).scalar_one()
            total += conn.execute(
                sa.select(sa.func.count())
                .select_from(t)
                .where(t.c.district_id == district, t.c.valid_to == version)
            ).scalar_one()
    return total


day_entities: list[str] = []
#: application_name of the benchmark's PostgreSQL connections, to find their server processes.
APP_NAME = f"rs-bench-{uuid.uuid4().hex[:8]}"


def _server_cpu(store: Store) -> dict[int, float] | None:
    """CPU seconds so far of each PostgreSQL backend serving this benchmark (None when the
    server is not on this machine). On a shared machine this is the load-independent figure of
    the server's work; it leaves out the checkpointer, the WAL writer and autovacuum."""
    if store.engine.dialect.name != "postgresql":
        return None
    with store.engine.connect() as conn:
        pids = conn.execute(
            sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :a"),
            {"a": APP_NAME},
        ).scalars()
        out: dict[int, float] = {}
        for pid in pids:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            out[pid] = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    return out


def _server_cpu_since(store: Store, before: dict[int, float] | None) -> float | None:
    after = _server_cpu(store)
    if before is None or after is None:
        return None
    return round(sum(v - before.get(pid, 0.0) for pid, v in after.items()), 2)


def bench_backend(
    url: str,
    day1: Roster,
    day2: Roster,
    changed: int,
    *,
    analyze: bool = False,
    plan: PublishPlan | None = None,
) -> dict[str, Any]:
    store = Store(make_engine(url))
    store.upgrade()
    district = store.create_district(f"bench-{uuid.uuid4().hex[:8]}").id
    server = _server_cpu(store)
    t, c = time.perf_counter(), time.process_time()
    store.publish(district, day1)
    first, first_cpu = time.perf_counter() - t, time.process_time() - c
    first_server = _server_cpu_since(store, server)
    analyze_seconds = None
    if analyze:  # planner statistics, as a DBA's ANALYZE or PostgreSQL's autovacuum give them
        t = time.perf_counter()
        with store.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
        analyze_seconds = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    base = store.read_version(district)
    read = time.perf_counter() - t
    del base
    server = _server_cpu(store)
    t, c = time.perf_counter(), time.process_time()
    # With a plan: the diff above handed over, as the sync does (no second diff).
    v2 = store.publish(district, day2, plan=plan)
    second, second_cpu = time.perf_counter() - t, time.process_time() - c
    second_server = _server_cpu_since(store, server)
    written = _written(store, district, v2.version)
    store.dispose()
    return {
        "first_publish_seconds": round(first, 2),
        "first_publish_cpu_seconds": round(first_cpu, 2),
        "first_publish_server_cpu_seconds": first_server,
        "analyze_seconds": analyze_seconds,
        "read_version_seconds": round(read, 2),
        "change_publish_seconds": round(second, 2),
        "change_publish_cpu_seconds": round(second_cpu, 2),
        "change_publish_server_cpu_seconds": second_server,
        "rows_written": written,
        "changed_records": changed,
        "rows_written_per_changed_record": round(written / changed, 3) if changed else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1,000,000 students")
    parser.add_argument("--change", type=float, default=0.01, help="fraction changed on day 2")
    parser.add_argument(
        "--pg",
        default=os.environ.get("ROSTERSYNC_TEST_POSTGRES_URL"),
        help="PostgreSQL URL (default: ROSTERSYNC_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite publish")
    parser.add_argument(
        "--plan",
        action="store_true",
        help="publish day 2 with the diff's PublishPlan (no second diff), as a sync does",
    )
    parser.add_argument(
        "--analyze", action="store_true", help="run ANALYZE after the first publish"
    )
    args = parser.parse_args()

    students = max(int(MEGA_STUDENTS * args.scale), 10)
    schools = max(int(MEGA_SCHOOLS * args.scale), 1)
    t = time.perf_counter()
    day1 = generate(students, schools)
    day2 = next_day(day1, args.change)
    gen = time.perf_counter() - t
    day_entities.extend(day1)

    t, c = time.perf_counter(), time.process_time()
    changes = diff_rosters(day1, day2, bulk_upload=True, base_version=1)
    diff_seconds, diff_cpu = time.perf_counter() - t, time.process_time() - c
    changed = changes.total
    result: dict[str, Any] = {
        "bench": "changes",
        "students": students,
        "schools": schools,
        "records_day1": _rows(day1),
        "records_day2": _rows(day2),
        "generate_seconds": round(gen, 2),
        "diff_seconds": round(diff_seconds, 2),
        "diff_cpu_seconds": round(diff_cpu, 2),
        "changed_records": changed,
        "changes": {
            n: c for n, c in changes.counts().items() if c["added"] + c["updated"] + c["deleted"]
        },
        "diff_records_per_second": int((_rows(day1) + _rows(day2)) / diff_seconds),
        "analyze": args.analyze,
        "plan": args.plan,
    }
    # day 1 is published as version 1 in each backend before day 2
    plan = publish_plan(changes) if args.plan else None
    del changes
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            result["sqlite"] = bench_backend(
                f"sqlite:///{Path(tmp) / 'bench.db'}",
                day1,
                day2,
                changed,
                analyze=args.analyze,
                plan=plan,
            )
    if args.pg:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.pg)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            sep = "&" if "?" in args.pg else "?"
            url = (
                f"{args.pg}{sep}options={quote(f'-csearch_path={schema}')}"
                f"&application_name={APP_NAME}"
            )
            result["postgresql"] = bench_backend(
                url, day1, day2, changed, analyze=args.analyze, plan=plan
            )
        finally:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    result["load_average_1m"] = load_average()
    result["machine"] = machine()
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
