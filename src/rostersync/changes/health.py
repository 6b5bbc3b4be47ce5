"""Source-health circuit breaker: a broken extract fails the run, it is never "everyone left".

An extract is failed when the source could not be read, when it came back empty for an entity
that had records (an outage, a file with only its header line), or when it lost a whole school
(a school whose org is still sent but whose records of an entity all vanished). Such a run fails
with the reason and publishes nothing.

A school whose org record itself is gone is not a health failure (the admin may have taken it out
of the schools mapping); its records become deletions, which the hold threshold judges — with
``per_school: true`` a whole school's deletions always exceed the limit.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from rostersync.changes.diff import SCHOOL_COLUMN
from rostersync.model import ENTITIES


def check_source_health(
    base: Mapping[str, pl.DataFrame],
    candidate: Mapping[str, pl.DataFrame],
    *,
    extract_error: str | None = None,
) -> list[str]:
    """Reasons the candidate must not be trusted; empty when the extract looks healthy.

    Compared per source (the ``source`` column), so one source of several going dark is caught.
    Columnar: counts per source and per (source, school), never a loop over records.
    """
    if extract_error:
        return [f"the extract failed: {extract_error}"]
    reasons: list[str] = []
    orgs = candidate.get("orgs", ENTITIES["orgs"].empty())
    schools = orgs.filter(pl.col("type") == "school").select(pl.col("sourcedId").alias("__s"))
    if all(candidate.get(name, ent.empty()).height == 0 for name, ent in ENTITIES.items()):
        reasons.append("the extract has no records at all (an outage or a file with only headers)")
        return reasons
    for name, ent in ENTITIES.items():
        before = base.get(name, ent.empty())
        if before.height == 0:
            continue
        after = candidate.get(name, ent.empty())
        b = before.group_by("source").agg(pl.len().alias("before"))
        a = after.group_by("source").agg(pl.len().alias("after"))
        lost = b.join(a, on="source", how="left").filter(pl.col("after").is_null())
        for src, n in lost.select("source", "before").iter_rows():
            reasons.append(
                f"{name}: the source {src!r} returned no records where the last accepted "
                f"version has {n} (an outage or an empty file, not a mass deletion)"
            )
        school = SCHOOL_COLUMN.get(name)
        if school is None:
            continue
        keys = ["source", school]
        bs = before.filter(pl.col(school).is_not_null()).group_by(keys).agg(pl.len().alias("n"))
        as_ = after.filter(pl.col(school).is_not_null()).group_by(keys).agg(pl.len().alias("m"))
        gone = (
            bs.join(as_, on=keys, how="anti")
            .join(lost.select("source"), on="source", how="anti")
            .join(schools, left_on=school, right_on="__s", how="semi")
            .sort(keys)
        )
        for src, sch, n in gone.select("source", school, "n").iter_rows():
            reasons.append(
                f"{name}: the source {src!r} lost the whole school {sch!r} "
                f"({n} records in the last accepted version, none now)"
            )
    return reasons
