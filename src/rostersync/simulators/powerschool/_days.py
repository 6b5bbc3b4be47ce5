"""Days: the district evolves deterministically, one day at a time, so change detection has data.

Each day (seeded by ``(seed, day)``) enrolls new students, withdraws some, transfers some between
schools, corrects names and emails, changes schedules; on :data:`ROLLOVER_DAY` a new school year
starts with new terms and sections. Every change is logged (day, table, action, key, what).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from . import _generate as G  # noqa: N812

#: The day the next school year's terms and sections appear (2026-08-19).
ROLLOVER_DAY = (dt.date(2026, 8, 19) - G.BASE_DATE).days


def _log(day: int, table: str, action: str, keys: pl.Series, what: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "day": pl.Series([day] * keys.len(), dtype=pl.Int64),
            "table": pl.Series([table] * keys.len(), dtype=pl.Utf8),
            "action": pl.Series([action] * keys.len(), dtype=pl.Utf8),
            "key": keys.cast(pl.Int64),
            "what": pl.Series([what] * keys.len(), dtype=pl.Utf8),
        }
    )


def _sample(rng: np.random.Generator, frame: pl.DataFrame, k: int) -> pl.DataFrame:
    if frame.height == 0:
        return frame
    return frame.gather(np.sort(rng.choice(frame.height, min(k, frame.height), replace=False)))


def _end_enrollments(
    cc: pl.DataFrame, student_ids: pl.Series, date: dt.date
) -> tuple[pl.DataFrame, pl.Series]:
    """CC with the students' current enrollments ended on `date`, and the DCIDs it changed
    (change tracking reports them like any other update)."""
    current = pl.col("studentid").is_in(student_ids.implode()) & (pl.col("dateleft") > date)
    ended = cc.filter(current)["dcid"]
    return cc.with_columns(
        dateleft=pl.when(current).then(pl.lit(date)).otherwise("dateleft"),
    ), ended


def _current_sections(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    year = G.max_of(tables["terms"]["yearid"], G.YEAR_ID)
    return tables["sections"].filter(pl.col("termid") // 100 == year)


def _reschedule(
    tables: dict[str, pl.DataFrame],
    cc: pl.DataFrame,
    students: pl.DataFrame,
    rng: np.random.Generator,
    date: dt.date,
    *,
    per_student: int = 6,
) -> pl.DataFrame:
    """New CC rows enrolling `students` from `date` in this year's sections; a day's change
    always gives every such student a schedule (no empty sections, no skipped students)."""
    return G.enrollments(
        students.with_columns(entrydate=pl.lit(date)),
        _current_sections(tables),
        tables["terms"],
        rng,
        first_id=G.max_of(cc["id"], 0) + 1,
        per_student=per_student,
        empty_share=0.0,
        skip_share=0.0,
    )


def live_day(tables: dict[str, pl.DataFrame], seed: int, day: int) -> pl.DataFrame:
    """Apply one day's changes to `tables` (in place) and return that day's change log."""
    rng = np.random.default_rng([seed, day])
    date = G.BASE_DATE + dt.timedelta(days=day)
    students = tables["students"]
    k = max(1, students.height // 1000)
    logs: list[pl.DataFrame] = []

    # New students (no Contacts-module rows yet: realistic for a fresh enrollment).
    new = G.student_rows(
        rng,
        tables["schools"],
        k,
        first_id=G.max_of(students["id"], 0) + 1,
        first_family=G.max_of(students["family"], 0) + 1,
        entry=date,
    )
    students = pl.concat([students, new], how="diagonal_relaxed")
    for name, frame in G.extension_tables(new, rng).items():
        tables[name] = pl.concat([tables[name], frame], how="vertical_relaxed")
        logs.append(_log(day, name, "insert", new["dcid"], "new student"))
    cc = tables["cc"]
    added = G.enrollments(
        new,
        _current_sections(tables),
        tables["terms"],
        rng,
        first_id=G.max_of(cc["id"], 0) + 1,
        empty_share=0.0,
        skip_share=0.0,
    )
    cc = pl.concat([cc, added])
    logs += [
        _log(day, "students", "insert", new["dcid"], "new student"),
        _log(day, "cc", "insert", added["dcid"], "new student's schedule"),
    ]

    active = students.filter((pl.col("enroll_status") == 0) & (pl.col("entrydate") < date))
    # Withdrawals.
    gone = _sample(rng, active, k)
    students = students.with_columns(
        enroll_status=pl.when(pl.col("dcid").is_in(gone["dcid"].implode()))
        .then(2)
        .otherwise("enroll_status"),
        exitdate=pl.when(pl.col("dcid").is_in(gone["dcid"].implode()))
        .then(pl.lit(date))
        .otherwise("exitdate"),
    )
    cc, ended = _end_enrollments(cc, gone["id"], date)
    logs += [
        _log(day, "students", "update", gone["dcid"], "withdrawn"),
        _log(day, "cc", "update", ended, "ended (withdrawn)"),
    ]

    # Transfers between schools (new schedule at the new school).
    numbers = tables["schools"].filter(pl.col("school_number") != G.GRADUATED_SCHOOL)[
        "school_number"
    ]
    if numbers.len() > 1:
        movers = _sample(rng, active.filter(~pl.col("dcid").is_in(gone["dcid"].implode())), k)
        target = numbers.gather(rng.integers(0, numbers.len(), movers.height))
        movers = movers.with_columns(target=target).filter(pl.col("target") != pl.col("schoolid"))
        mapping = movers.select("dcid", "target")
        students = (
            students.join(mapping, on="dcid", how="left")
            .with_columns(schoolid=pl.coalesce("target", "schoolid"))
            .drop("target")
        )
        cc, ended = _end_enrollments(cc, movers["id"], date)
        moved = students.filter(pl.col("dcid").is_in(movers["dcid"].implode()))
        again = _reschedule(tables, cc, moved, rng, date)
        cc = pl.concat([cc, again])
        logs += [
            _log(day, "students", "update", movers["dcid"], "transferred"),
            _log(day, "cc", "update", ended, "ended (transferred)"),
            _log(day, "cc", "insert", again["dcid"], "schedule at the new school"),
        ]

    # Name corrections.
    renamed = _sample(rng, active, k)
    fixed = G.pick(rng, G.FIRST_NAMES, renamed.height)
    students = (
        students.join(renamed.select("dcid").with_columns(fixed=fixed), on="dcid", how="left")
        .with_columns(first_name=pl.coalesce("fixed", "first_name"))
        .drop("fixed")
    )
    logs.append(_log(day, "students", "update", renamed["dcid"], "first name corrected"))

    # Email corrections: malformed or missing school emails get fixed.
    ext = tables["u_def_ext_students"]
    bad = ext.filter(
        pl.col("school_email").is_null() | ~pl.col("school_email").str.contains(r"^[^@ ]+@[^@ ]+$")
    )
    bad = _sample(rng, bad, k)
    if bad.height:
        rows = students.filter(pl.col("dcid").is_in(bad["studentsdcid"].implode())).sort("dcid")
        good = rows.select(
            pl.col("dcid").alias("studentsdcid"),
            (
                G.fold(pl.col("first_name").str.split(" ").list.first())
                + "."
                + G.fold(pl.col("last_name").str.replace(G.SUFFIX_RE, ""))
                + pl.col("student_number").cast(pl.Utf8)
                + "@"
                + G.STUDENT_DOMAIN
            ).alias("fixed"),
        )
        tables["u_def_ext_students"] = (
            ext.join(good, on="studentsdcid", how="left")
            .with_columns(school_email=pl.coalesce("fixed", "school_email"))
            .drop("fixed")
        )
        logs.append(_log(day, "u_def_ext_students", "update", good["studentsdcid"], "email fixed"))

    # Schedule changes: drop one current enrollment of a few students, add another.
    live = cc.filter((pl.col("dateleft") > date) & (pl.col("sectionid") > 0))
    dropped = _sample(rng, live, k)
    cc = cc.with_columns(
        dateleft=pl.when(pl.col("dcid").is_in(dropped["dcid"].implode()))
        .then(pl.lit(date))
        .otherwise("dateleft")
    )
    changers = students.filter(pl.col("id").is_in(dropped["studentid"].implode()))
    swapped = _reschedule(tables, cc, changers, rng, date, per_student=1)
    cc = pl.concat([cc, swapped])
    logs += [
        _log(day, "cc", "update", dropped["dcid"], "dropped (schedule change)"),
        _log(day, "cc", "insert", swapped["dcid"], "added (schedule change)"),
    ]

    if day == ROLLOVER_DAY:
        logs += _new_school_year(tables, students, rng, day)
    tables["students"] = students
    tables["cc"] = cc
    return pl.concat(logs)


def _new_school_year(
    tables: dict[str, pl.DataFrame], students: pl.DataFrame, rng: np.random.Generator, day: int
) -> list[pl.DataFrame]:
    """Next year's terms and sections (same courses, new IDs, no enrollments yet)."""
    terms = tables["terms"]
    year = G.max_of(terms["yearid"], G.YEAR_ID) + 1
    new_terms = G.terms_table(tables["schools"], year, first_dcid=G.max_of(terms["dcid"], 0) + 1)
    tables["terms"] = pl.concat([terms, new_terms])
    sections = tables["sections"]
    first_id = G.max_of(sections["id"], 0) + 1
    new_sections, new_st = G.sections_tables(
        students,
        tables["schools"],
        tables["schoolstaff"],
        tables["courses"],
        new_terms,
        rng,
        first_id=first_id,
        first_st=G.max_of(tables["sectionteacher"]["id"], 0) + 1,
    )
    tables["sections"] = pl.concat([sections, new_sections])
    tables["sectionteacher"] = pl.concat([tables["sectionteacher"], new_st])
    return [
        _log(day, "terms", "insert", new_terms["dcid"], "new school year"),
        _log(day, "sections", "insert", new_sections["dcid"], "new school year"),
        _log(day, "sectionteacher", "insert", new_st["id"], "new school year"),
    ]
