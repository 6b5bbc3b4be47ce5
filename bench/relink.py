"""Benchmark of re-linking and of the cross-source domain match on a big district; prints JSON.

    .venv/bin/python bench/relink.py                # 1M students, 6M enrollments, 10 % renumbered
    .venv/bin/python bench/relink.py --scale 0.1    # a tenth of that

Tables are generated directly (vectorised Polars, no connector). Two measurements:

- ``relink``: the published roster, then the same roster with a share of the students (a few
  schools) under new IDs and new enrollment IDs; :func:`rostersync.pipeline.relink` restores
  every published ID (counted and checked).
- ``cross_source``: the same students seen by a second source (the directory) under its own
  IDs; :func:`rostersync.pipeline.match_across_sources` gives each person one ID.

Prints seconds and CPU seconds per phase, records/s and peak RSS.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import polars as pl

from _common import Phases, emit, load_average, machine, peak_rss_mb
from rostersync.config import validate_config
from rostersync.model import ENTITIES, Roster, conform
from rostersync.pipeline import PublishedRoster, match_across_sources, relink

GIVEN = ["Ana", "Élodie", "Bo", "Maria", "José", "Liam", "Noah", "Olivia", "Emma", "Zoë"]
FAMILY = ["Smith", "García", "Nguyen", "Johnson", "Müller", "O'Brien", "Kim", "Patel", "Lopez"]


def roster(students: int, seed: int, prefix: str = "", renumbered: float = 0.0) -> Roster:
    """Students (and six enrollments each); the first ``renumbered`` share under new IDs."""
    rng = np.random.default_rng(seed)
    n = students
    moved = int(n * renumbered)
    i = pl.int_range(0, n, dtype=pl.Int64, eager=True).alias("i")
    key = (pl.when(pl.col("i") < moved).then(pl.col("i") + 10_000_000).otherwise("i")).cast(pl.Utf8)
    people = pl.DataFrame(
        {
            "i": i,
            "g": pl.Series(np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]),
            "f": pl.Series(np.array(FAMILY)[rng.integers(0, len(FAMILY), n)]),
            "d": pl.Series(rng.integers(0, 3650, n)),
        }
    ).with_columns(key.alias("k"))
    users = people.select(
        (pl.lit(f"{prefix}student-") + pl.col("k")).alias("sourcedId"),
        pl.lit("active").alias("status"),
        pl.lit("sis").alias("source"),
        pl.col("k").alias("sourceId"),
        pl.lit(True).alias("enabledUser"),
        (pl.lit("s") + pl.col("i").cast(pl.Utf8)).alias("username"),
        pl.col("g").alias("givenName"),
        pl.col("f").alias("familyName"),
        pl.lit("student").alias("role"),
        (pl.lit("s") + pl.col("i").cast(pl.Utf8) + "@district.example.org").alias("email"),
        pl.format('{{"stateId":"{}"}}', pl.col("i") + 900_000_000).alias("metadata"),
        (pl.date(2008, 1, 1) + pl.duration(days=pl.col("d"))).alias("birthDate"),
    )
    per = 6
    enrollments = (
        people.select("k", pl.int_ranges(0, per).alias("slot"))
        .explode("slot")
        .select(
            pl.format("e{}-{}", "k", "slot").alias("sourcedId"),
            pl.lit("active").alias("status"),
            pl.lit("sis").alias("source"),
            pl.lit("x").alias("sourceId"),
            pl.format("class-{}", "slot").alias("classSourcedId"),
            pl.lit("school-1").alias("schoolSourcedId"),
            (pl.lit(f"{prefix}student-") + pl.col("k")).alias("userSourcedId"),
            pl.lit("student").alias("role"),
        )
    )
    out = {name: entity.empty() for name, entity in ENTITIES.items()}
    out["users"] = conform("users", users)
    out["enrollments"] = conform("enrollments", enrollments)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M students")
    parser.add_argument("--renumbered", type=float, default=0.1, help="share of new IDs")
    args = parser.parse_args()
    students = int(1_000_000 * args.scale)
    phases = Phases()
    base = {"name": "sis", "app": "powerschool"}
    delivery = {"url": "http://sis.example.org", "client_id": "x", "client_secret": "env:X"}
    keys = {"student": ["metadata.stateId", "givenName", "familyName", "birthDate"]}
    config = validate_config(
        {
            "district": "Bench",
            "sources": [{**base, "delivery": delivery}],
            "relinking": {"keys": keys, "min_confidence": 0.75},
        },
        "bench",
    )
    with phases("generate"):
        published = roster(students, seed=1)
        renumbered = roster(students, seed=1, renumbered=args.renumbered)
    with phases("relink"):
        result = relink(renumbered, PublishedRoster(published), config)
    restored = (
        result.roster["users"]["sourcedId"].sort().equals(published["users"]["sourcedId"].sort())
    )
    enrollments_kept = result.roster["enrollments"]["sourcedId"].is_in(
        published["enrollments"]["sourcedId"].implode()
    )
    two = validate_config(
        {
            "district": "Bench",
            "sources": [
                {**base, "delivery": delivery, "advanced": {"multiple_sources": True}},
                {
                    **base,
                    "name": "dir",
                    "delivery": delivery,
                    "advanced": {"multiple_sources": True},
                    "uniqueness_domains": {"student": ["email"]},
                },
            ],
        },
        "bench",
    )
    with phases("generate_directory"):
        directory = roster(students, seed=2, prefix="dir-")
    with phases("cross_source"):
        matched, report = match_across_sources({"sis": published, "dir": directory}, two)
    merged = report.count("merged")
    one_id = matched["dir"]["users"]["sourcedId"].is_in(published["users"]["sourcedId"].implode())
    out: dict[str, Any] = {
        "benchmark": "relink",
        "students": students,
        "enrollments": published["enrollments"].height,
        "renumbered_students": int(students * args.renumbered),
        "relinked_records": result.links.height,
        "every_published_user_id_restored": bool(restored),
        "enrollment_ids_restored": int(enrollments_kept.sum()),
        "cross_source_merged": merged,
        "directory_students_under_the_sis_id": int(one_id.sum()),
        "seconds": phases.seconds,
        "cpu_seconds": phases.cpu_seconds,
        "relink_records_per_second": phases.rate("relink", students * 7),
        "cross_source_records_per_second": phases.rate("cross_source", students * 2),
        "peak_rss_mb": peak_rss_mb(),
        "load_average": load_average(),
        "machine": machine(),
    }
    emit(out)


if __name__ == "__main__":
    main()
