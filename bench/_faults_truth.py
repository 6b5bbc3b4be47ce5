"""Ground truth of the fault campaign: what the simulated source holds, from the district's own
tables, and the store compared with it after a run (records lost, wrongly deleted, partial)."""

from __future__ import annotations

import dataclasses

import polars as pl

from rostersync.simulators.powerschool import District
from rostersync.store import Store

GRADUATED_SCHOOL = 999_999

# ----------------------------------------------------------------------------- ground truth


def _ids(frame: pl.DataFrame, expr: pl.Expr) -> set[str]:
    return set(frame.select(expr.alias("id"))["id"].to_list())


def ground_truth(d: District) -> dict[str, set[str]]:
    """The sourcedIds a complete sync of the district must serve, per entity, straight from the
    district's tables: real schools, their terms, the courses their sections use, sections,
    active students (the school lists' default), active staff affiliations, the active
    students' current class enrollments, and the section teachers.

    Contacts are left out: they derive from free-text student fields through merge rules.
    """
    schools = d["schools"].filter(pl.col("school_number") != GRADUATED_SCHOOL)
    numbers = schools["school_number"]
    sections = d["sections"].filter(pl.col("schoolid").is_in(numbers.implode()))
    students = d["students"].filter(
        (pl.col("enroll_status") == 0) & pl.col("schoolid").is_in(numbers.implode())
    )
    staff = d["schoolstaff"].filter(
        (pl.col("status") == 1) & pl.col("schoolid").is_in(numbers.implode())
    )
    cc = d["cc"].join(students.select(pl.col("id").alias("studentid")), on="studentid", how="semi")
    cc = cc.filter(pl.col("sectionid") > 0).join(
        sections.select(pl.col("id").alias("sectionid")), on="sectionid", how="semi"
    )
    teachers = (
        d["sectionteacher"]
        .join(
            sections.select(pl.col("id").alias("sectionid"), pl.col("dcid").alias("section")),
            on="sectionid",
        )
        .join(
            d["schoolstaff"].select(pl.col("id").alias("teacherid"), "users_dcid"),
            on="teacherid",
        )
    )
    course_numbers = sections["course_number"].unique()
    courses = d["courses"].filter(pl.col("course_number").is_in(course_numbers.implode()))
    terms = d["terms"].filter(pl.col("schoolid").is_in(numbers.implode()))
    dcid = pl.col("dcid").cast(pl.Utf8)
    return {
        "orgs": _ids(schools, dcid) | {"district"},
        "academicSessions": _ids(terms, dcid),
        "courses": _ids(courses, dcid),
        "classes": _ids(sections, dcid),
        "users": _ids(students, "student-" + dcid)
        | _ids(staff, "staff-" + pl.col("users_dcid").cast(pl.Utf8)),
        "enrollments": _ids(cc, dcid)
        | _ids(
            teachers,
            pl.format("teacher-{}-staff-{}", pl.col("section"), pl.col("users_dcid")),
        ),
        "demographics": _ids(students, "student-" + dcid),
    }


def served(store: Store, district_id: int, version: int | None) -> dict[str, set[str]]:
    """The sourcedIds a version serves, per truth entity (users: students and staff only)."""
    if version is None:
        return {entity: set() for entity in TRUTH_ENTITIES}
    roster = store.read_version(district_id, version)
    out: dict[str, set[str]] = {}
    for entity in TRUTH_ENTITIES:
        frame = roster[entity]
        if entity == "users":
            frame = frame.filter(
                pl.col("sourcedId").str.starts_with("student-")
                | pl.col("sourcedId").str.starts_with("staff-")
            )
        out[entity] = set(frame["sourcedId"].to_list())
    return out


TRUTH_ENTITIES = (
    "orgs",
    "academicSessions",
    "courses",
    "classes",
    "users",
    "enrollments",
    "demographics",
)


def count(sets: dict[str, set[str]]) -> int:
    return sum(len(s) for s in sets.values())


def minus(a: dict[str, set[str]], b: dict[str, set[str]]) -> dict[str, set[str]]:
    return {k: a[k] - b.get(k, set()) for k in a}


def meet(a: dict[str, set[str]], b: dict[str, set[str]]) -> dict[str, set[str]]:
    return {k: a[k] & b.get(k, set()) for k in a}


def nonzero(sets: dict[str, set[str]]) -> dict[str, int]:
    return {k: len(v) for k, v in sets.items() if v}


@dataclasses.dataclass
class Check:
    """The store against the truth after one run."""

    lost: int
    wrongly_deleted: int
    partial_versions: int
    stale: int
    lost_by_entity: dict[str, int]
    version_before: int | None
    version_after: int | None


def check_store(
    store: Store, district_id: int, truth: dict[str, set[str]], before: int | None
) -> Check:
    """Compare what the store serves now (and every version published since ``before``) with
    the truth."""
    previous = served(store, district_id, before)
    after = store.current_version(district_id)
    now = served(store, district_id, after)
    wrongly = minus(meet(truth, previous), now)
    published = [v.version for v in store.list_versions(district_id) if v.version > (before or 0)]
    partial = 0
    for version in published:
        sets = now if version == after else served(store, district_id, version)
        partial += bool(count(minus(truth, sets)))
    lost = minus(truth, now) if after != before else wrongly
    return Check(
        lost=count(lost),
        wrongly_deleted=count(wrongly),
        partial_versions=partial,
        stale=count(minus(now, truth)),
        lost_by_entity=nonzero(lost),
        version_before=before,
        version_after=after,
    )
