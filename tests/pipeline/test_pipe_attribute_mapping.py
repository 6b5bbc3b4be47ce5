"""Attribute mapping: fields, custom TABLE.field values, constants and transforms."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from pipeline_factories import load, roster, user

from rostersync.pipeline import attribute_mapping


def people() -> dict[str, pl.DataFrame]:
    return roster(
        users=[
            user(
                "u1",
                "student",
                " ana ",
                "LÓPEZ",
                email="Ana.Lopez@X.org",
                identifier="1001",
                grades=["09"],
                metadata={
                    "U_DEF_EXT_STUDENTS.school_email": "ANA@SCHOOL.ORG",
                    "gender": "F",
                    "dob": "03/15/2010",
                    "grade_level": "10",
                    "StudentCoreFields.immunization_dpt": "yes",
                },
            ),
            user(
                "u2",
                "student",
                "Bo",
                "Chen",
                email=None,
                identifier="1002",
                metadata={"gender": "M"},
            ),
            user("t1", "teacher", "ada", "lovelace", email="ADA@X.ORG", metadata={"gender": "X"}),
        ],
        courses=[{"sourcedId": "c1", "title": None, "orgSourcedId": "s1"}],
        demographics=[{"sourcedId": "u2", "sex": "male"}],
    )


def test_every_transform_through_a_config_file(tmp_path: Path) -> None:
    mapping = {
        "student": {
            "email": "U_DEF_EXT_STUDENTS.school_email",
            "username": {
                "field": "U_DEF_EXT_STUDENTS.school_email",
                "transforms": ["lower", {"regex_extract": "^([^@]+)"}],
            },
            "givenName": {"field": "givenName", "transforms": ["trim", "title"]},
            "familyName": {"field": "familyName", "transforms": ["title"]},
            "preferredFirstName": {
                "field": "givenName",
                "transforms": ["trim", "upper", {"replace": {"old": "A", "new": "4"}}],
            },
            "middleName": {
                "field": "identifier",
                "transforms": [{"regex_replace": {"pattern": "^10", "new": "X"}}],
            },
            "phone": {
                "field": "identifier",
                "transforms": [{"concat": {"fields": ["email"], "separator": "/"}}],
            },
            "sms": {
                "field": "identifier",
                "transforms": [{"format": "ID {value} of {familyName}"}],
            },
            "birthDate": {"field": "metadata.dob", "transforms": [{"date_parse": "%m/%d/%Y"}]},
            "preferredLastName": {
                "field": "metadata.dob",
                "transforms": [{"date_parse": "%m/%d/%Y"}, {"date_format": "%Y"}],
            },
            "sex": {
                "field": "metadata.gender",
                "transforms": [{"value_map": {"F": "female", "M": "male"}}],
            },
            "grades": {"field": "metadata.grade_level", "transforms": [{"split": ","}]},
            "userIds": {
                "field": "StudentCoreFields.immunization_dpt",
                "transforms": [{"default": "none"}],
            },
        },
        "teacher": {"email": {"field": "email", "transforms": ["lower"]}},
        "course": {"title": {"constant": "Untitled"}},
    }
    config = load(tmp_path, [{"attribute_mapping": mapping}]).sources[0]
    out, _ = attribute_mapping(people(), config)
    users = out["users"].sort("sourcedId")
    ana = users.row(by_predicate=pl.col("sourcedId") == "u1", named=True)
    assert ana["email"] == "ANA@SCHOOL.ORG"
    assert ana["username"] == "ana"
    assert ana["givenName"] == "Ana"
    assert ana["familyName"] == "López"
    assert ana["preferredFirstName"] == "4N4"
    assert ana["middleName"] == "X01"
    assert ana["phone"] == "1001/Ana.Lopez@X.org"
    assert ana["sms"] == "ID 1001 of LÓPEZ"
    assert ana["birthDate"] == date(2010, 3, 15)
    assert ana["preferredLastName"] == "2010"
    assert ana["grades"] == ["10"]
    assert ana["userIds"] == ["yes"]
    bo = users.row(by_predicate=pl.col("sourcedId") == "u2", named=True)
    assert bo["email"] is None  # the custom field is absent: empty, for data requirements
    assert bo["userIds"] == ["none"]
    assert bo["grades"] is None
    teacher = users.row(by_predicate=pl.col("sourcedId") == "t1", named=True)
    assert teacher["email"] == "ada@x.org"
    assert teacher["givenName"] == "ada"  # student mappings do not touch teachers
    assert out["courses"]["title"].to_list() == ["Untitled"]
    demo = out["demographics"].sort("sourcedId").select("sourcedId", "sex").rows()
    assert demo == [("u1", "female"), ("u2", "male")]
    assert out["users"].schema == people()["users"].schema


def test_unparseable_values_become_empty(tmp_path: Path) -> None:
    mapping = {"student": {"birthDate": "metadata.gender", "enabledUser": "metadata.gender"}}
    config = load(tmp_path, [{"attribute_mapping": mapping}]).sources[0]
    out, _ = attribute_mapping(people(), config)
    students = out["users"].filter(pl.col("role") == "student")
    assert students["birthDate"].null_count() == 2
    # "F" reads as false (t/f, yes/no, 1/0 are understood); "M" is not a boolean
    assert students.sort("sourcedId")["enabledUser"].to_list() == [False, None]
