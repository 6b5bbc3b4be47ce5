"""Grading periods, course–school links and the district identifier, from PowerSchool's terms,
sections and district record."""

from __future__ import annotations

import json

import polars as pl
from ps_helpers import extract

from rostersync.connectors.powerschool import mapping as m
from rostersync.simulators.powerschool import District, RunningSimulator


def _terms(rows: list[tuple[str, str, str, str, str]]) -> pl.DataFrame:
    """(term_dcid, portion, name, start, end) of school 1, year 2025."""
    return pl.DataFrame(
        {
            "term_dcid": [r[0] for r in rows],
            "school_dcid": ["1"] * len(rows),
            "start_year": ["2025"] * len(rows),
            "portion": [r[1] for r in rows],
            "name": [r[2] for r in rows],
            "abbreviation": [r[2] for r in rows],
            "start_date": [r[3] for r in rows],
            "end_date": [r[4] for r in rows],
        }
    )


def _sessions(rows: list[tuple[str, str, str, str, str]]) -> dict[str, tuple[str, str | None]]:
    out = m.build_sessions("sis", _terms(rows))
    return {
        r["sourcedId"]: (r["type"], r["parentSourcedId"])
        for r in out.select("sourcedId", "type", "parentSourcedId").iter_rows(named=True)
    }


def test_quarters_are_grading_periods_of_their_semester() -> None:
    got = _sessions(
        [
            ("y", "1", "Year", "2025-08-20", "2026-06-10"),
            ("s1", "2", "S1", "2025-08-20", "2026-01-16"),
            ("s2", "2", "S2", "2026-01-20", "2026-06-10"),
            ("q1", "4", "Q1", "2025-08-20", "2025-10-31"),
            ("q3", "4", "Q3", "2026-01-20", "2026-03-27"),
        ]
    )
    assert got == {
        "y": ("schoolYear", None),
        "s1": ("semester", "y"),
        "s2": ("semester", "y"),
        "q1": ("gradingPeriod", "s1"),
        "q3": ("gradingPeriod", "s2"),
    }


def test_the_innermost_enclosing_term_is_the_parent() -> None:
    got = _sessions(
        [
            ("y", "1", "Year", "2025-08-20", "2026-06-10"),
            ("t1", "3", "T1", "2025-08-20", "2025-11-28"),
            ("h1", "6", "H1", "2025-08-20", "2025-10-03"),
            # straddles two trimesters: only the year contains it
            ("h2", "6", "H2", "2025-11-01", "2025-12-12"),
            # no semester holds this quarter: its parent is the trimester that does
            ("q", "4", "Q", "2025-10-06", "2025-11-28"),
        ]
    )
    assert got == {
        "y": ("schoolYear", None),
        "t1": ("term", "y"),
        "h1": ("gradingPeriod", "t1"),
        "h2": ("gradingPeriod", "y"),
        "q": ("gradingPeriod", "t1"),
    }


def test_a_course_belongs_to_the_school_whose_sections_teach_it() -> None:
    courses = pl.DataFrame(
        {
            "course_dcid": ["c1", "c1", "c2", "c3", "c3"],
            "school_dcid": ["1", "2", "2", "1", "2"],
            "course_number": ["M1", "M1", "E1", "S1", "S1"],
            "course_name": ["Math", "Math", "English", "Science", "Science"],
        }
    )
    sections = pl.DataFrame(
        {
            "section_dcid": ["a", "b", "c"],
            "course_dcid": ["c1", "c3", "c3"],
            "school_dcid": ["2", "2", "1"],
        }
    )
    out = m.pack_metadata(m.build_courses("sis", courses, sections))
    orgs = dict(zip(out["sourcedId"], out["orgSourcedId"], strict=True))
    schools = {
        r: json.loads(t)["schools"] for r, t in zip(out["sourcedId"], out["metadata"], strict=True)
    }
    # c1 is listed at two schools but taught at one; c2 has no section: where it is listed.
    assert orgs == {"c1": "2", "c2": "2", "c3": m.DISTRICT_ID}
    assert schools == {"c1": ["2"], "c2": ["2"], "c3": ["1", "2"]}


async def test_a_synced_district_has_grading_periods_and_a_district_identifier(
    tiny_sim: RunningSimulator, tiny_district: District
) -> None:
    result, _ = await extract(tiny_sim.url)
    sessions = result.roster["academicSessions"]
    periods = sessions.filter(pl.col("type") == "gradingPeriod")
    quarters = tiny_district["terms"].filter(pl.col("portion") == 4)
    assert periods.height == quarters.height > 0
    parents = sessions.select(
        pl.col("sourcedId").alias("parentSourcedId"), pl.col("type").alias("parent_type")
    )
    assert set(periods.join(parents, on="parentSourcedId")["parent_type"]) == {"semester"}
    assert "term" not in set(sessions["type"])
    district = result.roster["orgs"].filter(pl.col("type") == "district").row(0, named=True)
    assert district["identifier"] == "1701"
    assert result.roster["orgs"]["identifier"].null_count() == 0
