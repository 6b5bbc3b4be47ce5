"""Domains of uniqueness: normalised keys, deterministic survivor, references rewritten."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from pipeline_factories import ids, load, roster, user

from rostersync.pipeline import uniqueness_domains


def dupes() -> dict[str, pl.DataFrame]:
    return roster(
        users=[
            user(
                "s3",
                "student",
                "Élodie",
                "Durand",
                email="E@X.ORG",
                agentSourcedIds=["p1"],
                orgSourcedIds=["sch1"],
            ),
            user(
                "s1",
                "student",
                " elodie  ",
                "DURAND",
                email="e@x.org",
                phone=None,
                orgSourcedIds=["sch2"],
            ),
            user(
                "s2",
                "student",
                "Elodie",
                "Durand",
                email="e@x.org",
                phone="555",
                birthDate=date(2010, 1, 1),
                agentSourcedIds=["p2"],
            ),
            user("s4", "student", "Elodie", "Durand", email=None),
            user("s5", "student", "Elodie", "Durand", email=None),
            user("t1", "teacher", "Elodie", "Durand", email="e@x.org"),
            user("p1", "guardian", "Marc", "Durand", email="m@x.org", agentSourcedIds=["s3"]),
            user("p2", "guardian", "Marc", "Durand", email="M@x.org", agentSourcedIds=["s2"]),
        ],
        enrollments=[
            {
                "sourcedId": "e1",
                "classSourcedId": "k1",
                "schoolSourcedId": "sch1",
                "userSourcedId": "s3",
                "role": "student",
            },
            {
                "sourcedId": "e2",
                "classSourcedId": "k1",
                "schoolSourcedId": "sch1",
                "userSourcedId": "s2",
                "role": "student",
            },
            {
                "sourcedId": "e3",
                "classSourcedId": "k2",
                "schoolSourcedId": "sch1",
                "userSourcedId": "s2",
                "role": "student",
            },
        ],
        userContacts=[
            {"sourcedId": "l1", "studentSourcedId": "s3", "contactSourcedId": "p1"},
            {"sourcedId": "l2", "studentSourcedId": "s2", "contactSourcedId": "p2"},
        ],
        demographics=[{"sourcedId": "s2", "sex": "female"}, {"sourcedId": "s1", "sex": None}],
    )


def dedup(tmp_path: Path, **source: Any) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    config = load(tmp_path, [source]).sources[0]
    out, report = uniqueness_domains(dupes(), config)
    return out, report.records


def test_default_domain_merges_people_and_rewrites_references(tmp_path: Path) -> None:
    out, records = dedup(tmp_path)
    users = out["users"]
    # s1 survives (lowest sourcedId); nulls in the domain never merge; teachers stay apart
    assert ids(users) == {"s1", "s4", "s5", "t1", "p1"}
    s1 = users.row(by_predicate=pl.col("sourcedId") == "s1", named=True)
    assert s1["givenName"] == " elodie  "  # the survivor's own values win
    assert s1["phone"] == "555"  # filled from s2
    assert s1["birthDate"] == date(2010, 1, 1)
    assert set(s1["orgSourcedIds"]) == {"sch1", "sch2"}
    assert s1["agentSourcedIds"] == ["p1"]  # p2 became p1
    p1 = users.row(by_predicate=pl.col("sourcedId") == "p1", named=True)
    assert p1["agentSourcedIds"] == ["s1"]
    enr = (
        out["enrollments"].sort("sourcedId").select("sourcedId", "classSourcedId", "userSourcedId")
    )
    assert enr.rows() == [("e1", "k1", "s1"), ("e3", "k2", "s1")]  # e2 duplicated e1
    links = out["userContacts"].select("studentSourcedId", "contactSourcedId").rows()
    assert links == [("s1", "p1")]
    assert ids(out["demographics"]) == {"s1"}
    merged = records.filter(pl.col("entity") == "users").sort("sourcedId")
    assert merged.select("sourcedId", "detail").rows() == [
        ("p2", "p1"),
        ("s2", "s1"),
        ("s3", "s1"),
    ]
    assert set(merged["reason"]) == {"same givenName, familyName, email"}
    link_merges = records.filter(pl.col("entity") != "users").select(
        "entity", "sourcedId", "detail"
    )
    assert sorted(link_merges.rows()) == [("enrollments", "e2", "e1"), ("userContacts", "l2", "l1")]


def test_custom_domain_and_switch(tmp_path: Path) -> None:
    out, _ = dedup(tmp_path, uniqueness_domains={"student": ["givenName", "familyName"]})
    assert ids(out["users"].filter(pl.col("role") == "student")) == {"s1"}
    out, records = dedup(tmp_path, advanced={"compare_by_uniqueness": False})
    assert records.height == 0
    assert out["users"].height == 8


def test_idempotent(tmp_path: Path) -> None:
    config = load(tmp_path).sources[0]
    once, _ = uniqueness_domains(dupes(), config)
    twice, report = uniqueness_domains(once, config)
    assert report.records.height == 0
    for name in once:
        assert twice[name].sort("sourcedId").equals(once[name].sort("sourcedId")), name


def test_courses_by_configured_domain(tmp_path: Path) -> None:
    tables = roster(
        courses=[
            {"sourcedId": "c2", "title": "Algèbre", "orgSourcedId": "s", "courseCode": "M1"},
            {"sourcedId": "c1", "title": "ALGEBRE ", "orgSourcedId": "s", "courseCode": "M1"},
        ],
        classes=[
            {
                "sourcedId": "k",
                "title": "A",
                "courseSourcedId": "c2",
                "classType": "scheduled",
                "schoolSourcedId": "s",
                "termSourcedIds": ["t"],
            }
        ],
    )
    config = load(tmp_path, [{"uniqueness_domains": {"course": ["title", "courseCode"]}}])
    out, _ = uniqueness_domains(tables, config.sources[0])
    assert ids(out["courses"]) == {"c1"}
    assert out["classes"]["courseSourcedId"].to_list() == ["c1"]


def test_normalisation_folds_case_accents_and_spaces() -> None:
    from rostersync.pipeline.uniqueness import normalise

    values = ["Élodie  Straße", " ELODIE STRASSE ", "e\u0301lodie strasse", "Elodie\tStrasse"]
    frame = pl.DataFrame({"v": [*values, "", "  "]})
    out = frame.select(normalise(pl.col("v")))["v"].to_list()
    assert out == ["elodie strasse"] * 4 + [None, None]
