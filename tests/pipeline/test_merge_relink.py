"""Re-linking when IDs change, and the kept identity decisions (manual match, earlier re-links)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipeline_factories import BASE_SOURCE, ids, load, roster, user

from rostersync.config import DistrictConfig, validate_config
from rostersync.errors import ConfigurationError
from rostersync.model import Roster
from rostersync.pipeline import (
    DECISIONS_SCHEMA,
    PublishedRoster,
    apply_matches,
    relink,
    run_pipeline,
)

KLASS = {
    "sourcedId": "k1",
    "title": "Algebra",
    "courseSourcedId": "c1",
    "classType": "scheduled",
    "schoolSourcedId": "s1",
    "termSourcedIds": ["t1"],
}


def enrol(sid: str, user_id: str) -> dict[str, Any]:
    return {
        "sourcedId": sid,
        "classSourcedId": "k1",
        "schoolSourcedId": "s1",
        "userSourcedId": user_id,
        "role": "student",
    }


def school(numbers: dict[str, str], enrollment_ids: dict[str, str] | None = None) -> Roster:
    """Three students under the given IDs (name → ID), each enrolled in k1."""
    people = {
        "ana": ("Ana", "Lopez", "ana@x.org", date(2010, 1, 2)),
        "bo": ("Bo", "Chen", "bo@x.org", date(2011, 3, 4)),
        "cy": ("Cy", "Diaz", "cy@x.org", date(2012, 5, 6)),
    }
    eids = enrollment_ids or {n: f"e-{n}" for n in numbers}
    return roster(
        users=[
            user(numbers[n], "student", g, f, email=e, birthDate=b, username=n)
            for n, (g, f, e, b) in people.items()
            if n in numbers
        ],
        classes=[KLASS],
        enrollments=[enrol(eids[n], numbers[n]) for n in numbers],
    )


def cfg(tmp_path: Path, **relinking: Any) -> DistrictConfig:
    return load(tmp_path, relinking=relinking) if relinking else load(tmp_path)


def published(tmp_path: Path, tables: Roster) -> Roster:
    out, _ = run_pipeline({"sis": tables}, cfg(tmp_path))
    return out


def users(out: Roster) -> dict[str, str]:
    """username → sourcedId."""
    return dict(out["users"].select("username", "sourcedId").rows())


def test_renumbered_students_keep_their_published_ids(tmp_path: Path) -> None:
    before = published(tmp_path, school({"ana": "1", "bo": "2", "cy": "3"}))
    renumbered = school({"ana": "101", "bo": "102", "cy": "3"})
    out, report = run_pipeline({"sis": renumbered}, cfg(tmp_path), previous=PublishedRoster(before))
    assert users(out) == {"ana": "1", "bo": "2", "cy": "3"}
    assert sorted(out["enrollments"].select("sourcedId", "userSourcedId").rows()) == [
        ("e-ana", "1"),
        ("e-bo", "2"),
        ("e-cy", "3"),
    ]
    assert report.links is not None
    assert sorted(report.links.select("entity", "from_id", "to_id", "confidence").rows()) == [
        ("users", "101", "1", 1.0),
        ("users", "102", "2", 1.0),
    ]
    relinked = report.records.filter(pl.col("action") == "relinked").sort("sourcedId")
    assert relinked.select("sourcedId", "detail", "entityType").rows() == [
        ("101", "1", "student"),
        ("102", "2", "student"),
    ]
    assert relinked["reason"][0] == (
        "ID changed in the source: confidence 1.0 (givenName, familyName, email equal)"
    )


def test_links_of_renumbered_records_keep_their_ids_too(tmp_path: Path) -> None:
    before = published(tmp_path, school({"ana": "1", "bo": "2"}))
    renumbered = school({"ana": "101", "bo": "2"}, {"ana": "e-new", "bo": "e-bo"})
    out, report = run_pipeline({"sis": renumbered}, cfg(tmp_path), previous=PublishedRoster(before))
    assert sorted(out["enrollments"].select("sourcedId", "userSourcedId").rows()) == [
        ("e-ana", "1"),
        ("e-bo", "2"),
    ]
    assert report.links is not None
    assert ("enrollments", "e-new", "e-ana") in report.links.select(
        "entity", "from_id", "to_id"
    ).rows()


def test_the_confidence_rule_decides(tmp_path: Path) -> None:
    keys = {"student": ["email", "givenName", "familyName", "birthDate"]}
    before = published(tmp_path, school({"ana": "1"}))
    moved = school({"ana": "101"})
    moved["users"] = moved["users"].with_columns(email=pl.lit("ana.lopez@new.org"))
    lenient = cfg(tmp_path, keys=keys, min_confidence=0.75)
    out, report = run_pipeline({"sis": moved}, lenient, previous=PublishedRoster(before))
    assert users(out) == {"ana": "1"}
    assert report.links is not None
    assert report.links["detail"].to_list() == [
        "confidence 0.75 (givenName, familyName, birthDate equal)"
    ]
    strict = cfg(tmp_path, keys=keys)
    out, report = run_pipeline({"sis": moved}, strict, previous=PublishedRoster(before))
    assert users(out) == {"ana": "101"}
    assert report.links is not None
    assert report.links.height == 0


def test_a_tie_on_the_keys_is_broken_by_the_rest_of_the_record(tmp_path: Path) -> None:
    before = published(tmp_path, school({"ana": "1"}))
    twice = school({"ana": "101"})
    twice["users"] = pl.concat(
        [
            twice["users"],
            twice["users"].with_columns(sourcedId=pl.lit("102"), givenName=pl.lit("An")),
        ]
    )
    keys = {"student": ["email"]}
    out, _ = run_pipeline(
        {"sis": twice}, cfg(tmp_path, keys=keys), previous=PublishedRoster(before)
    )
    assert ids(out["users"]) == {"1", "102"}  # 101 equals the published record but for its ID


def test_two_equally_good_matches_are_reported_not_relinked(tmp_path: Path) -> None:
    before = published(tmp_path, school({"ana": "1"}))
    twice = school({"ana": "101"})
    twice["users"] = pl.concat(  # two new records, both a little different from the old one
        [
            twice["users"].with_columns(givenName=pl.lit("Ann")),
            twice["users"].with_columns(sourcedId=pl.lit("102"), givenName=pl.lit("Anna")),
        ]
    )
    out, report = run_pipeline(
        {"sis": twice}, cfg(tmp_path, keys={"student": ["email"]}), previous=PublishedRoster(before)
    )
    assert ids(out["users"]) == {"101", "102"}
    reported = report.records.filter(pl.col("stage") == "relinking")
    assert set(reported["action"]) == {"reported"}
    assert "rostersync matches link" in reported["reason"][0]


def test_disabled_relinking_does_nothing(tmp_path: Path) -> None:
    before = published(tmp_path, school({"ana": "1"}))
    out, report = run_pipeline(
        {"sis": school({"ana": "101"})},
        cfg(tmp_path, enabled=False),
        previous=PublishedRoster(before),
    )
    assert users(out) == {"ana": "101"}
    assert report.records.filter(pl.col("action") == "relinked").height == 0


def decisions(*rows: tuple[str, str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=DECISIONS_SCHEMA, orient="row")


def test_a_split_pair_is_never_relinked(tmp_path: Path) -> None:
    before = published(tmp_path, school({"ana": "1"}))
    out, _ = run_pipeline(
        {"sis": school({"ana": "101"})},
        cfg(tmp_path),
        previous=PublishedRoster(before),
        decisions=decisions(("users", "101", "1", "apart")),
    )
    assert users(out) == {"ana": "101"}


def test_kept_decisions_rename_merge_or_step_aside() -> None:
    tables = school({"ana": "101", "bo": "2", "cy": "3"})
    tables["users"] = tables["users"].with_columns(
        phone=pl.when(pl.col("sourcedId") == "3").then(pl.lit("555")).otherwise(None)
    )
    out, report = apply_matches(
        tables,
        decisions(
            ("users", "101", "1", "relink"),  # renamed back to its published ID
            ("users", "3", "2", "link"),  # cy's record merged into bo's (bo's values win)
            ("users", "nobody", "9", "link"),  # a record the source no longer sends
        ),
    )
    by_id = {r["sourcedId"]: r for r in out["users"].iter_rows(named=True)}
    assert set(by_id) == {"1", "2"}
    assert by_id["2"]["givenName"] == "Bo"
    assert by_id["2"]["phone"] == "555"
    # cy's enrollment now duplicates bo's (same class, user and role): the lower ID stays
    assert sorted(out["enrollments"].select("sourcedId", "userSourcedId").rows()) == [
        ("e-ana", "1"),
        ("e-bo", "2"),
    ]
    actions = dict(report.records.select("sourcedId", "action").rows())
    assert actions == {"101": "relinked", "3": "merged"}
    stale, _ = apply_matches(
        school({"ana": "101", "bo": "1"}), decisions(("users", "101", "1", "relink"))
    )
    assert ids(stale["users"]) == {"101", "1"}


def test_relinking_keys_are_validated() -> None:
    body = {
        "district": "D",
        "sources": [BASE_SOURCE],
        "relinking": {"keys": {"student": ["emial"]}, "min_confidence": 0.1},
    }
    with pytest.raises(ConfigurationError) as caught:
        validate_config(body, "relinking")
    text = str(caught.value)
    assert "relinking.keys.student[0]: unknown attribute 'emial'" in text
    assert "relinking.min_confidence" in text


NAMES = ["Ana", "Bo", "Cy", "Di", "Ed", "Flo"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.integers(0, 5), min_size=1), st.sets(st.integers(0, 5)), st.integers(0, 1000))
def test_renumbering_is_undone(present: set[int], moved: set[int], seed: int) -> None:
    """Whatever subset of students the source renumbers (and in whatever row order), the roster
    after re-linking equals the one before, IDs included (only the raw source ID is new)."""
    config = validate_config({"district": "D", "sources": [BASE_SOURCE]}, "law")

    def tables(renumber: set[int]) -> Roster:
        return roster(
            users=[
                user(
                    f"{'n' if i in renumber else 'u'}{i}",
                    "student",
                    NAMES[i],
                    "Lopez",
                    email=f"{NAMES[i].lower()}@x.org",
                    username=NAMES[i],
                )
                for i in sorted(present)
            ],
            classes=[KLASS],
            enrollments=[
                enrol(f"e{i}", f"{'n' if i in renumber else 'u'}{i}") for i in sorted(present)
            ],
        )

    before, _ = run_pipeline({"sis": tables(set())}, config)
    shuffled = {
        n: t.sample(fraction=1.0, shuffle=True, seed=seed) for n, t in tables(moved).items()
    }
    after, report = run_pipeline({"sis": shuffled}, config, previous=PublishedRoster(before))
    for name in before:
        a, b = after[name].drop("sourceId"), before[name].drop("sourceId")
        assert sorted(a.rows(), key=repr) == sorted(b.rows(), key=repr)
    assert report.links is not None
    assert report.links.height == len(moved & present)


def test_relink_without_previous_roster_changes_nothing(tmp_path: Path) -> None:
    tables = school({"ana": "1"})
    result = relink(tables, None, cfg(tmp_path))
    assert result.roster is tables
    assert result.links.height == 0
