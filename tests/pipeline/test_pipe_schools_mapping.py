"""Schools mapping: auto keeps all; a list keeps, renames and merges schools."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from pipeline_factories import demo_district, ids, load

from rostersync.pipeline import run_source, schools_mapping


def test_auto_keeps_everything(tmp_path: Path) -> None:
    tables = demo_district()
    config = load(tmp_path).sources[0]
    out, report = schools_mapping(tables, config)
    assert out is tables
    assert report.records.height == 0


def test_list_keeps_only_mapped_schools_and_their_records(tmp_path: Path) -> None:
    config = load(tmp_path, [{"schools_mapping": [{"source_id": "100"}, {"source_id": 999}]}])
    out, report = schools_mapping(demo_district(), config.sources[0])
    assert ids(out["orgs"]) == {"d1", "s1"}
    assert ids(out["classes"]) == {"k1", "k3"}
    assert ids(out["courses"]) == {"c1", "c3"}
    assert "e3" not in ids(out["enrollments"])
    # students and teachers of South High only are filtered; contacts without a school stay
    assert {"u3", "u4", "t3"}.isdisjoint(ids(out["users"]))
    assert {"p1", "p2", "p3"} <= ids(out["users"])
    recs = report.records
    assert recs.filter(pl.col("action") == "reported")["sourcedId"].to_list() == ["999"]
    filtered = recs.filter(pl.col("action") == "filtered")
    assert set(filtered.filter(pl.col("entity") == "users")["sourcedId"]) == {"u3", "u4", "t3"}
    assert report.counts["orgs"] == (3, 2)


def test_target_merges_one_school_onto_another_or_renames(tmp_path: Path) -> None:
    mapping = [
        {"source_id": "100", "target": "North Campus"},
        {"source_id": "200", "target": "100"},
    ]
    config = load(tmp_path, [{"schools_mapping": mapping}]).sources[0]
    out, report = schools_mapping(demo_district(), config)
    orgs = out["orgs"].filter(pl.col("type") == "school")
    assert orgs.select("sourcedId", "name").rows() == [("s1", "North Campus")]
    assert set(out["classes"]["schoolSourcedId"]) == {"s1"}
    assert set(out["enrollments"]["schoolSourcedId"]) == {"s1"}
    u3 = out["users"].filter(pl.col("sourcedId") == "u3")
    assert u3["orgSourcedIds"].to_list() == [["s1"]]
    merged = report.records.filter(pl.col("action") == "merged")
    assert merged.select("sourcedId", "detail").rows() == [("s2", "s1")]


def test_stage_is_part_of_the_source_run(tmp_path: Path) -> None:
    config = load(tmp_path, [{"schools_mapping": [{"source_id": "200"}]}]).sources[0]
    out, reports = run_source(demo_district(), config)
    assert reports[0].stage == "schools_mapping"
    assert ids(out["orgs"]) == {"d1", "s2"}
