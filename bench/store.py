"""Benchmark of the store: bulk publish and read-back of a big roster version; prints JSON.

    .venv/bin/python bench/store.py                      # 1M users + 6M enrollments, both DBs
    .venv/bin/python bench/store.py --rows-scale 0.1     # a tenth of that
    .venv/bin/python bench/store.py --backend sqlite

Each backend runs in its own child process so its peak RSS is its own. Phases: generate the
synthetic roster (vectorised Polars), ``publish`` it as the first version (every row written:
the bulk-write path), ``read`` the version back whole (and check it equals what was written),
then ``republish`` with 1% of users changed (rows written in proportion to the change).
PostgreSQL uses ROSTERSYNC_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1/test)
and a fresh schema that is dropped afterwards; SQLite a file in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from _common import Phases, emit, load_average, machine, peak_rss_mb, progress, speed_probe
from rostersync.model import Roster, conform, empty_roster
from rostersync.store import DEFAULT_BATCH_SIZE, Store, make_engine

USERS = 1_000_000
ENROLLMENTS_PER_USER = 6
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
GIVEN = ["Ana", "Élodie", "Bo", "Chen", "Maria", "José", "Liam", "Zoë", "Søren", "Kai", "Nora"]
FAMILY = ["Smith", "García", "Nguyen", "Müller", "O'Brien", "Kim", "Patel", "Brown", "Łukasz"]


def _pick(values: list[str], index: pl.Expr) -> pl.Expr:
    return pl.lit(pl.Series(values)).gather(index % len(values))


def generate(users: int) -> Roster:
    """A synthetic roster of ``users`` students and six class enrollments each (vectorised)."""
    i = pl.int_range(users, dtype=pl.Int64)
    stamp = datetime(2025, 8, 1, tzinfo=UTC)
    user_frame = pl.select(
        sourcedId=pl.format("ps-u-{}", i.cast(pl.Utf8).str.zfill(8)),
        status=pl.lit("active"),
        dateLastModified=pl.lit(stamp) + pl.duration(seconds=i),
        source=pl.lit("powerschool"),
        sourceId=i.cast(pl.Utf8),
        metadata=pl.when(i % 4 == 0).then(pl.format('{{"lunch":"{}"}}', i % 3)),
        enabledUser=pl.lit(True),
        username=pl.format("s{}", i),
        userIds=pl.concat_list(pl.format("sis:{}", i)),
        givenName=_pick(GIVEN, i * 7),
        familyName=_pick(FAMILY, i * 13),
        role=pl.lit("student"),
        orgSourcedIds=pl.concat_list(pl.format("ps-s-{}", i % 200)),
        primaryOrgSourcedId=pl.format("ps-s-{}", i % 200),
        identifier=pl.format("{}", 100_000 + i),
        email=pl.format("s{}@example.org", i),
        grades=pl.concat_list(pl.format("{}", (i % 12 + 1).cast(pl.Utf8).str.zfill(2))),
        birthDate=pl.lit(date(2008, 1, 1)) + pl.duration(days=i % 3650),
    )
    j = pl.int_range(users * ENROLLMENTS_PER_USER, dtype=pl.Int64)
    enrollment_frame = pl.select(
        sourcedId=pl.format("ps-e-{}", j.cast(pl.Utf8).str.zfill(9)),
        status=pl.lit("active"),
        dateLastModified=pl.lit(stamp),
        source=pl.lit("powerschool"),
        sourceId=j.cast(pl.Utf8),
        classSourcedId=pl.format("ps-c-{}", j % 40_000),
        schoolSourcedId=pl.format("ps-s-{}", (j // ENROLLMENTS_PER_USER) % 200),
        userSourcedId=pl.format("ps-u-{}", (j // ENROLLMENTS_PER_USER).cast(pl.Utf8).str.zfill(8)),
        role=pl.lit("student"),
        primary=pl.lit(False),
        beginDate=pl.lit(date(2025, 8, 20)),
        endDate=pl.lit(date(2026, 6, 12)),
    )
    roster = empty_roster()
    roster["users"] = conform("users", user_frame)
    roster["enrollments"] = conform("enrollments", enrollment_frame)
    return roster


def change_users(roster: Roster, fraction: float) -> tuple[Roster, int]:
    """The same roster with ``fraction`` of the users' email changed."""
    users = roster["users"]
    step = max(1, round(1 / fraction))
    changed = pl.int_range(users.height) % step == 0
    out = dict(roster)
    out["users"] = users.with_columns(
        email=pl.when(changed).then(pl.format("new-{}", pl.col("email"))).otherwise("email")
    )
    return out, (users.height + step - 1) // step


def _pg_schema_url(base: str) -> tuple[str, str]:
    name = f"rs_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    admin.dispose()
    url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={name}"})
    return url.render_as_string(hide_password=False), name


def _drop_pg_schema(base: str, name: str) -> None:
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    admin.dispose()


def run_backend(backend: str, scale: float, batch_size: int, pg_base: str) -> dict[str, Any]:
    probe = speed_probe()
    phases = Phases()
    users = max(1, round(USERS * scale))
    with phases("generate"):
        roster = generate(users)
    rows = sum(t.height for t in roster.values())
    workdir = tempfile.TemporaryDirectory(prefix="rostersync-bench-")
    schema = None
    if backend == "sqlite":
        url = f"sqlite:///{Path(workdir.name) / 'bench.db'}"
    else:
        url, schema = _pg_schema_url(pg_base)
    try:
        store = Store(make_engine(url))
        store.upgrade()
        district = store.create_district("Bench District").id
        with phases("publish"):
            first = store.publish(district, roster, batch_size=batch_size)
        with phases("read"):
            back = store.read_version(district, first.version)
        with phases("verify"):
            equal = all(back[n].equals(t.sort("sourcedId")) for n, t in roster.items())
        del back
        changed_roster, changed = change_users(roster, 0.01)
        with phases("republish_1pct"):
            second = store.publish(district, changed_roster, batch_size=batch_size)
        store.dispose()
        size_mb = (
            round((Path(workdir.name) / "bench.db").stat().st_size / 2**20, 1)
            if backend == "sqlite"
            else None
        )
    finally:
        if schema is not None:
            _drop_pg_schema(pg_base, schema)
        workdir.cleanup()
    return {
        "benchmark": "store",
        "backend": backend,
        "rows_scale": scale,
        "batch_size": batch_size,
        "rows": {"users": roster["users"].height, "enrollments": roster["enrollments"].height},
        "seconds": phases.seconds,
        "cpu_seconds": phases.cpu_seconds,
        "write_rows_per_s": phases.rate("publish", rows),
        "read_rows_per_s": phases.rate("read", rows),
        "republish": {
            "changed_users": changed,
            "counted_updates": second.counts["users"].updated,
            "rows_per_s_of_roster": phases.rate("republish_1pct", rows),
        },
        "read_back_equal": equal,
        "load_average_1m": load_average(),
        "speed_probe": probe,
        "sqlite_file_mb": size_mb,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-scale", type=float, default=1.0, help="1.0 = 1M users + 6M")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("ROSTERSYNC_TEST_POSTGRES_URL", DEFAULT_PG),
        help="server for the postgres backend (a fresh schema is created and dropped)",
    )
    args = parser.parse_args()
    if args.backend != "both":
        emit(run_backend(args.backend, args.rows_scale, args.batch_size, args.postgres_url))
        return
    results = []
    for backend in ("sqlite", "postgres"):
        progress(f"backend {backend}")
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--backend",
                backend,
                "--rows-scale",
                str(args.rows_scale),
                "--batch-size",
                str(args.batch_size),
                "--postgres-url",
                args.postgres_url,
            ],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        results.append(json.loads(child.stdout))
    emit({"benchmark": "store", "machine": machine(), "results": results})


if __name__ == "__main__":
    main()
