"""Data requirements: report keeps and lists, skip drops and lists."""

from __future__ import annotations

from pathlib import Path

from pipeline_factories import ids, load, roster, user

from rostersync.pipeline import data_requirements


def test_report_and_skip_per_attribute(tmp_path: Path) -> None:
    tables = roster(
        users=[
            user("u1", "student", "A", "One", email="a@x", grades=["09"]),
            user("u2", "student", "B", "Two", email=" ", grades=["09"]),
            user("u3", "student", "C", "Three", email=None, grades=[]),
            user("t1", "teacher", "T", "Four", email=None),
        ],
        demographics=[{"sourcedId": "u1", "sex": "female"}, {"sourcedId": "u3", "sex": None}],
        courses=[
            {"sourcedId": "c1", "title": "Algebra", "orgSourcedId": "s1"},
            {"sourcedId": "c2", "title": "Bio", "orgSourcedId": "s1", "courseCode": "B"},
        ],
    )
    reqs = {
        "student": {"email": "report", "grades": "skip", "sex": "report"},
        "course": {"courseCode": "skip"},
    }
    config = load(tmp_path, [{"data_requirements": reqs}]).sources[0]
    out, report = data_requirements(tables, config)
    assert ids(out["users"]) == {"u1", "u2", "t1"}  # the teacher is not a student
    assert ids(out["courses"]) == {"c2"}
    recs = report.records.sort("entity", "sourcedId", "reason")
    assert recs.select("entity", "sourcedId", "action", "reason").rows() == [
        ("courses", "c1", "skipped", "missing courseCode"),
        ("users", "u2", "reported", "missing email"),
        ("users", "u2", "reported", "missing sex"),
        ("users", "u3", "skipped", "missing grades"),
    ]
    assert set(recs["entityType"]) == {"course", "student"}
    assert report.counts["users"] == (4, 3)
