"""The whole pipeline on the demo district: cleanup, and a run report with every kind of record."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from pipeline_factories import demo_district, ids, load, roster, user

from rostersync.model import ENTITIES
from rostersync.pipeline import referential_cleanup, run_pipeline

DEMO_SOURCE = {
    "advanced": {"sis_prefix": "ps-"},
    "attribute_mapping": {
        "student": {
            "email": {"field": "email", "transforms": ["trim", "lower"]},
            "username": {"field": "U_DEF_EXT_STUDENTS.school_email", "transforms": ["lower"]},
        }
    },
    "data_requirements": {
        "student": {"birthDate": "report"},
        "class": {"location": "report"},
        "contact": {"email": "skip"},
    },
    "filter_rules": {
        "student": [
            {"template": "active_students_only"},
            {"template": "exclude_test_records"},
        ],
        "teacher": [{"template": "teachers_with_class"}],
        "calendar": [{"template": "current_school_year_only"}],
        "class": [{"template": "current_school_year_only"}],
        "course": [{"template": "current_school_year_only"}],
    },
}


def test_demo_district_report_shows_every_kind_of_record(tmp_path: Path) -> None:
    config = load(tmp_path, [DEMO_SOURCE])
    out, report = run_pipeline({"sis": demo_district()}, config)
    summary = report.summary()
    users = summary["users"]
    assert users["in"] == 12
    assert users["reported"] >= 1
    assert users["filtered"] >= 1
    assert users["merged"] >= 1
    assert users["skipped"] >= 1
    assert summary["enrollments"]["removed"] >= 1
    skipped = report.records.filter(pl.col("action") == "skipped")
    assert sorted(skipped.select("sourcedId", "reason").rows()) == [
        ("p1", "missing email"),
        ("p2", "missing email"),
    ]
    recs = report.records
    merged = recs.filter(pl.col("action") == "merged", pl.col("entity") == "users")
    # the two Élodie Durand records are one student: the lower ID survives
    assert merged.select("sourcedId", "detail").rows() == [("ps-u2", "ps-u1")]
    survivor = out["users"].row(by_predicate=pl.col("sourcedId") == "ps-u1", named=True)
    assert survivor["username"] == "elodie.d@x.org"
    assert survivor["birthDate"] is not None  # filled from ps-u2
    filtered = dict(
        recs.filter(pl.col("action") == "filtered").select("sourcedId", "reason").rows()
    )
    assert filtered["u5"] == "active_students_only"
    assert filtered["u4"] == "exclude_test_records"
    assert filtered["t2"] == "teachers_with_class"
    assert filtered["k3"] == "current_school_year_only"
    reported = recs.filter(pl.col("action") == "reported")
    assert {"missing birthDate", "missing location"} <= set(reported["reason"])
    removed = recs.filter(pl.col("action") == "removed")
    assert "ps-e7" in set(removed["sourcedId"])  # enrollment in the filtered old class
    # every output table has its declared schema and no dangling reference
    for name, table in out.items():
        assert table.schema == ENTITIES[name].schema, name
    assert set(out["enrollments"]["userSourcedId"]) <= ids(out["users"])
    assert set(out["enrollments"]["classSourcedId"]) <= ids(out["classes"])
    assert report.records_out == {n: t.height for n, t in out.items()}


def test_report_as_json_and_csv(tmp_path: Path) -> None:
    config = load(tmp_path, [DEMO_SOURCE])
    _, report = run_pipeline({"sis": demo_district()}, config)
    data = json.loads(report.to_json())
    assert data["summary"]["users"]["in"] == 12
    assert [s["stage"] for s in data["stages"]] == [
        "schools_mapping",
        "attribute_mapping",
        "contact_name_parsing",
        "data_requirements",
        "filter_rules",
        "sis_prefix",
        "uniqueness_domains",
        "master_fields",
        "referential_cleanup",
        "validity",
    ]
    assert len(data["records"]) == report.records.height == data["records_total"]
    short = json.loads(report.to_json(max_records=2))
    assert len(short["records"]) == 2
    assert short["records_total"] == report.records.height
    written = report.write_csv(tmp_path / "report")
    names = {p.name for p in written}
    assert {"summary.csv", "users.csv", "enrollments.csv"} <= names
    users_csv = pl.read_csv(tmp_path / "report" / "users.csv")
    assert users_csv.height == report.records.filter(pl.col("entity") == "users").height
    assert set(users_csv.columns) == {
        "stage",
        "source",
        "entityType",
        "sourcedId",
        "action",
        "reason",
        "detail",
    }


def test_cleanup_removes_dangling_and_reports_orphans() -> None:
    tables = roster(
        users=[
            user("u1", "student", "A", "B", agentSourcedIds=["gone", "p1"]),
            user("p1", "guardian", "P", "Q"),
        ],
        classes=[
            {
                "sourcedId": "k1",
                "title": "K",
                "courseSourcedId": "nocourse",
                "classType": "scheduled",
                "schoolSourcedId": "noschool",
                "termSourcedIds": ["t"],
            }
        ],
        enrollments=[
            {
                "sourcedId": "e1",
                "classSourcedId": "k1",
                "schoolSourcedId": "s",
                "userSourcedId": "u1",
                "role": "student",
            },
            {
                "sourcedId": "e2",
                "classSourcedId": "k9",
                "schoolSourcedId": "s",
                "userSourcedId": "u1",
                "role": "student",
            },
            {
                "sourcedId": "e3",
                "classSourcedId": "k1",
                "schoolSourcedId": "s",
                "userSourcedId": "u9",
                "role": "student",
            },
        ],
        userContacts=[{"sourcedId": "l1", "studentSourcedId": "u1", "contactSourcedId": "p9"}],
        demographics=[{"sourcedId": "u9"}],
    )
    out, report = referential_cleanup(tables)
    assert ids(out["enrollments"]) == {"e1"}
    assert out["userContacts"].height == 0
    assert out["demographics"].height == 0
    assert out["users"].filter(pl.col("sourcedId") == "u1")["agentSourcedIds"].to_list() == [["p1"]]
    assert ids(out["classes"]) == {"k1"}
    rows = sorted(report.records.select("sourcedId", "action", "reason").rows())
    assert rows == [
        ("e2", "removed", "class not synced"),
        ("e3", "removed", "user not synced"),
        ("k1", "reported", "class without a synced course"),
        ("k1", "reported", "class without a synced school"),
        ("l1", "removed", "contact not synced"),
        ("u9", "removed", "user not synced"),
    ]
