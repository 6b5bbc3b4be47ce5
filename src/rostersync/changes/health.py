"""Source-health circuit breaker: a broken extract fails the run, it is never "everyone left".

An extract is failed when the source could not be read, when its connector reported a health
problem (counts announced vs received…), when it came back empty for an entity that had records
(an outage, a file with only its header line), or when a *scope that is still sent lost its
dependent records wholesale* — the signature of a source that started answering empty lists in
the middle of an extraction. Such a run fails naming the scopes and publishes nothing.

Scope rules (constants below; per source, columnar group-bys):

- ``school:<id>`` — the school's org is still in the candidate, and for one of users, classes or
  enrollments it had records and now has none, or it had at least
  :data:`SCHOOL_MIN_RECORDS` and now has fewer than :data:`SCHOOL_MIN_KEPT` of them (a net count,
  so a rollover that replaces a graduating grade with a new one does not trip it). The same per
  role (students, teachers…), except that a role emptied out counts from
  :data:`CLASS_MIN_ENROLLMENTS` records (a school's only administrator may leave);
- ``class:<id>`` — the class is still in the candidate, had at least
  :data:`CLASS_MIN_ENROLLMENTS` enrollments and now has none.

A real school closing or a class dissolving removes the school or class record as well, so these
rules do not fire on it.

A school whose org record itself is gone is not a health failure (the admin may have taken it out
of the schools mapping); its records become deletions, which the hold threshold judges — with
``per_school: true`` a whole school's deletions always exceed the limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from rostersync.changes.diff import SCHOOL_COLUMN
from rostersync.model import ENTITIES

#: A school with at least this many records of an entity in the last accepted version…
SCHOOL_MIN_RECORDS = 20
#: …fails the run when the candidate keeps less than this share of them (net count): a planned
#: mass change (a rollover, even a 69 % one) keeps more, an outage mid-extraction far less.
SCHOOL_MIN_KEPT = 0.25
#: A class still sent that had at least this many enrollments and now has none fails the run.
CLASS_MIN_ENROLLMENTS = 5
#: Classes named one by one per source; the rest are counted in one line, so an outage over a
#: district's thousands of classes gives a reason list an admin can read (and a bounded report).
CLASS_REASONS_LISTED = 10

#: Entities whose records belong to a school, checked per school (the column naming it).
SCHOOL_SCOPED: dict[str, str] = {
    name: SCHOOL_COLUMN[name] for name in ENTITIES if name in ("users", "classes", "enrollments")
}


def _counts(frame: pl.DataFrame, keys: list[str], name: str) -> pl.DataFrame:
    return (
        frame.filter(pl.col(keys[1]).is_not_null())
        .group_by(keys)
        .agg(pl.len().cast(pl.Int64).alias(name))
    )


def _present(candidate: Mapping[str, pl.DataFrame], entity: str, key: str) -> pl.DataFrame:
    frame = candidate.get(entity, ENTITIES[entity].empty())
    if entity == "orgs":
        frame = frame.filter(pl.col("type") == "school")
    return frame.select("source", pl.col("sourcedId").alias(key)).unique()


def _lost_wholesale(n: pl.Expr, m: pl.Expr, *, min_emptied: int) -> pl.Expr:
    return ((m == 0) & (n >= min_emptied)) | ((n >= SCHOOL_MIN_RECORDS) & (m < n * SCHOOL_MIN_KEPT))


def scope_losses(
    base: Mapping[str, pl.DataFrame], candidate: Mapping[str, pl.DataFrame]
) -> list[str]:
    """Scopes (schools, classes) still sent whose dependent records vanished wholesale."""
    reasons: list[str] = []
    for name, key in SCHOOL_SCOPED.items():
        before = base.get(name, ENTITIES[name].empty())
        if before.height == 0:
            continue
        after = candidate.get(name, ENTITIES[name].empty())
        sent = after["source"].unique().to_list()  # a source sending nothing: reported above
        schools = _present(candidate, "orgs", key)
        # the whole entity at the school, then each role apart (every teacher enrollment gone
        # while the students' stay is the same outage, of one query)
        groupings = [
            ["source", key],
            *([["source", key, "role"]] if "role" in before.columns else []),
        ]
        tripped = pl.DataFrame(schema={"source": pl.Utf8, key: pl.Utf8})
        for keys in groupings:
            lost = (
                _counts(before, keys, "n")
                .join(_counts(after, keys, "m"), on=keys, how="left", nulls_equal=True)
                .with_columns(pl.col("m").fill_null(0))
                .filter(pl.col("source").is_in(sent))
                .join(schools, on=["source", key], how="semi")
                .filter(
                    _lost_wholesale(
                        pl.col("n"),
                        pl.col("m"),
                        min_emptied=1 if len(keys) == 2 else CLASS_MIN_ENROLLMENTS,
                    )
                )
                .join(tripped, on=["source", key], how="anti")  # said once, for the school
                .sort(keys)
            )
            tripped = pl.concat([tripped, lost.select("source", key)])
            for row in lost.iter_rows(named=True):
                role = f"{row['role']} " if len(keys) == 3 else ""
                m = row["m"]
                what = "none now" if m == 0 else f"only {m} now"
                reasons.append(
                    f"school:{row[key]}: {role}{name} of the source {row['source']!r} fell from "
                    f"{row['n']} in the last accepted version to {what} while the school is "
                    "still sent (a partial outage of the source, not deletions)"
                )
    before = base.get("enrollments", ENTITIES["enrollments"].empty())
    if before.height:
        after = candidate.get("enrollments", ENTITIES["enrollments"].empty())
        key = "classSourcedId"
        emptied = (
            _counts(before, ["source", key], "n")
            .filter(pl.col("n") >= CLASS_MIN_ENROLLMENTS)
            .join(_counts(after, ["source", key], "m"), on=["source", key], how="anti")
            .filter(pl.col("source").is_in(after["source"].unique().to_list()))
            .join(_present(candidate, "classes", key), on=["source", key], how="semi")
            .sort("source", key)
        )
        for (src,), group in emptied.group_by(["source"], maintain_order=True):
            rows = group.select(key, "n").rows()
            for cls, n in rows[:CLASS_REASONS_LISTED]:
                reasons.append(
                    f"class:{cls}: its {n} enrollments from the source {src!r} all vanished "
                    "while the class is still sent (a partial outage of the source, not deletions)"
                )
            if len(rows) > CLASS_REASONS_LISTED:
                more = len(rows) - CLASS_REASONS_LISTED
                total = sum(n for _, n in rows[CLASS_REASONS_LISTED:])
                reasons.append(
                    f"class:…: {more} more classes of the source {src!r} lost all their "
                    f"enrollments ({total} in all) the same way while still sent (the first "
                    f"{CLASS_REASONS_LISTED} are named above)"
                )
    return reasons


def check_source_health(
    base: Mapping[str, pl.DataFrame],
    candidate: Mapping[str, pl.DataFrame],
    *,
    extract_error: str | None = None,
    health: Sequence[str] = (),
) -> list[str]:
    """Reasons the candidate must not be trusted; empty when the extract looks healthy.

    ``health`` is what the connectors reported about the extraction itself (counts announced vs
    received…): any problem there fails the run. Compared per source (the ``source`` column), so
    one source of several going dark is caught. Columnar: counts per source and per scope,
    never a loop over records.
    """
    if extract_error:
        return [f"the extract failed: {extract_error}"]
    reasons: list[str] = [f"the source reported: {problem}" for problem in health]
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
    reasons.extend(scope_losses(base, candidate))
    return reasons
