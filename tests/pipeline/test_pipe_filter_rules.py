"""Filter rules: every template, custom include/exclude conditions, nesting, co-teachers."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pipeline_factories import demo_district, ids, load

from rostersync.pipeline import filter_rules


def run(
    tmp_path: Path, rules: dict[str, Any], **advanced: Any
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    source: dict[str, Any] = {"filter_rules": rules}
    if advanced:
        source["advanced"] = advanced
    config = load(tmp_path, [source]).sources[0]
    out, report = filter_rules(demo_district(), config)
    return out, report.records


def students(out: dict[str, pl.DataFrame]) -> set[str]:
    return ids(out["users"].filter(pl.col("role") == "student"))


ALL_STUDENTS = {"u1", "u2", "u3", "u4", "u5", "u6"}


@pytest.mark.parametrize(
    ("rule", "kept"),
    [
        ({"template": "active_students_only"}, ALL_STUDENTS - {"u5"}),
        ({"template": "exclude_pre_registered"}, ALL_STUDENTS - {"u5"}),
        ({"template": "exclude_test_records"}, ALL_STUDENTS - {"u4"}),
        (
            {"template": "exclude_test_records", "pattern": "^Ch", "attributes": ["familyName"]},
            ALL_STUDENTS - {"u3"},
        ),
        ({"template": "grade_range", "min_grade": "01", "max_grade": "09"}, {"u1", "u2", "u5"}),
        ({"template": "grade_range", "max_grade": "KG"}, {"u6"}),
        (
            {"include": {"attribute": "email", "op": "ends_with", "value": "x.org"}},
            {"u1", "u4", "u5", "u6"},
        ),
        ({"exclude": {"attribute": "email", "op": "is_empty"}}, ALL_STUDENTS - {"u3"}),
        ({"include": {"attribute": "email", "op": "is_not_empty"}}, ALL_STUDENTS - {"u3"}),
        ({"include": {"attribute": "givenName", "op": "equals", "value": "Bo"}}, {"u3"}),
        ({"exclude": {"attribute": "givenName", "op": "not_equals", "value": "Bo"}}, {"u3"}),
        (
            {"include": {"attribute": "grades", "op": "in", "value": ["10", "KG"]}},
            {"u3", "u4", "u6"},
        ),
        ({"exclude": {"attribute": "grades", "op": "not_in", "value": ["09"]}}, {"u1", "u2", "u5"}),
        ({"include": {"attribute": "familyName", "op": "contains", "value": "ar"}}, {"u6"}),
        ({"include": {"attribute": "givenName", "op": "starts_with", "value": "P"}}, {"u5"}),
        (
            {"include": {"attribute": "familyName", "op": "matches", "value": "(?i)^dur"}},
            {"u1", "u2"},
        ),
        (
            {"include": {"attribute": "metadata.enroll_status", "op": "equals", "value": "P"}},
            {"u5"},
        ),
        (
            {"include": {"attribute": "birthDate", "op": "greater_than", "value": "2010-01-01"}},
            {"u2"},
        ),
        (
            {"include": {"attribute": "birthDate", "op": "less_than", "value": date(2011, 1, 1)}},
            {"u2"},
        ),
        (
            {
                "include": {
                    "attribute": "birthDate",
                    "op": "between",
                    "value": ["2009-01-01", "2010-12-31"],
                }
            },
            {"u2"},
        ),
        ({"include": {"attribute": "sex", "op": "in", "value": ["male"]}}, {"u3"}),
        (
            {
                "exclude": {
                    "any": [
                        {"attribute": "givenName", "op": "equals", "value": "Bo"},
                        {
                            "all": [
                                {"attribute": "familyName", "op": "equals", "value": "Reg"},
                                {"not": {"attribute": "email", "op": "is_empty"}},
                            ]
                        },
                    ]
                }
            },
            ALL_STUDENTS - {"u3", "u5"},
        ),
    ],
)
def test_student_rules(tmp_path: Path, rule: dict[str, Any], kept: set[str]) -> None:
    out, records = run(tmp_path, {"student": [rule]})
    assert students(out) == kept
    dropped = records.filter(pl.col("entity") == "users")
    assert set(dropped["sourcedId"]) == ALL_STUDENTS - kept
    assert set(dropped["action"]) <= {"filtered"}
    # other types are untouched
    assert ids(out["users"].filter(pl.col("role") != "student")) >= {"t1", "t2", "t3", "p1"}


def test_report_names_the_first_rule_that_dropped_a_record(tmp_path: Path) -> None:
    rules = [
        {
            "name": "no tests",
            "exclude": {"attribute": "givenName", "op": "equals", "value": "Test"},
        },
        {"template": "grade_range", "min_grade": "09", "max_grade": "09"},
    ]
    _, records = run(tmp_path, {"student": rules})
    reasons = dict(records.select("sourcedId", "reason").rows())
    assert reasons == {"u4": "no tests", "u3": "grade_range", "u6": "grade_range"}


def test_year_teacher_and_contact_templates_follow_dependencies(tmp_path: Path) -> None:
    rules = {
        "calendar": [{"template": "current_school_year_only"}],
        "course": [{"template": "current_school_year_only"}],
        "class": [{"template": "current_school_year_only", "school_year": "2026"}],
        "student": [{"exclude": {"attribute": "familyName", "op": "equals", "value": "Student"}}],
        "teacher": [{"template": "teachers_with_class"}],
        "contact": [{"template": "contacts_of_synced_students"}],
    }
    out, records = run(tmp_path, rules)
    assert ids(out["academicSessions"]) == {"y26", "t26"}
    assert ids(out["courses"]) == {"c1", "c2"}
    assert ids(out["classes"]) == {"k1", "k2"}
    assert ids(out["users"].filter(pl.col("role") == "teacher")) == {"t1", "t3"}
    # p2 is linked only to the filtered test student; p3 to nobody
    assert ids(out["users"].filter(pl.col("role").is_in(["guardian", "parent"]))) == {"p1"}
    assert set(records["entityType"]) == {
        "calendar",
        "course",
        "class",
        "student",
        "teacher",
        "contact",
    }


def test_include_all_changes_nothing(tmp_path: Path) -> None:
    rule = {"include": {"any": [{"attribute": "sourcedId", "op": "is_not_empty"}]}}
    rules = {
        t: [rule] for t in ("student", "teacher", "contact", "admin", "course", "class", "calendar")
    }
    out, records = run(tmp_path, rules)
    before = demo_district()
    assert records.height == 0
    for name, table in out.items():
        assert table.equals(before[name]), name


def test_contact_filter_and_co_teachers(tmp_path: Path) -> None:
    out, records = run(
        tmp_path,
        {},
        contact_module=True,
        contact_filter={"attribute": "role", "op": "equals", "value": "guardian"},
        sync_co_teachers=False,
    )
    assert ids(out["users"].filter(pl.col("role").is_in(["guardian", "parent"]))) == {"p1", "p2"}
    assert "e5" not in ids(out["enrollments"])
    reasons = dict(records.select("sourcedId", "reason").rows())
    assert reasons == {"p3": "advanced.contact_filter", "e5": "sync_co_teachers is off"}
