"""The PowerSchool JSON quirks are normalised: wrapping, lone objects, "" expansions, numbers."""

from __future__ import annotations

from rostersync.connectors.powerschool._json import (
    as_list,
    extension_fields,
    flag,
    table_records,
    text,
    unwrap_collection,
)


def test_double_wrapped_list() -> None:
    payload = {"students": {"@expansions": "x", "student": [{"id": 1}, {"id": 2}]}}
    assert unwrap_collection(payload, "students", "student") == [{"id": 1}, {"id": 2}]


def test_single_object_becomes_one_item_list() -> None:
    payload = {"staffs": {"@extensions": "", "staff": {"id": 9}}}
    assert unwrap_collection(payload, "staffs", "staff") == [{"id": 9}]


def test_empty_page_without_singular_key() -> None:
    assert unwrap_collection({"students": {"@expansions": "a"}}, "students", "student") == []
    assert unwrap_collection({"students": ""}, "students", "student") == []
    assert unwrap_collection({"students": None}, "students", "student") == []
    assert unwrap_collection({}, "students", "student") == []


def test_empty_expansion_and_lone_objects() -> None:
    assert as_list("") == []
    assert as_list(None) == []
    assert as_list({"a": 1}) == [{"a": 1}]
    assert as_list([1, 2]) == [1, 2]


def test_text_normalises_numbers_and_blanks() -> None:
    assert text(20931) == "20931"
    assert text(120.0) == "120"
    assert text("03") == "03"
    assert text("") is None
    assert text(None) is None
    assert text(True) == "true"


def test_flag_accepts_every_spelling() -> None:
    assert [flag(v) for v in (1, "1", "true", True, "Y")] == [True] * 5
    assert [flag(v) for v in (0, "0", "false", False, "N")] == [False] * 5
    assert flag("") is None


def test_table_records_lowercases_and_flattens() -> None:
    payload = {
        "name": "CC",
        "record": {"id": 5, "tables": {"cc": {"ID": "5", "StudentID": "51", "dateleft": ""}}},
    }
    assert table_records(payload, "CC") == [{"id": "5", "studentid": "51", "dateleft": ""}]
    assert table_records({"name": "x"}) == []
    flat = {"record": [{"dcid": "51", "first_name": "Ana"}]}
    assert table_records(flat) == [{"dcid": "51", "first_name": "Ana"}]


def test_extension_fields_object_or_array() -> None:
    one = {
        "_extension_data": {
            "_table_extension": {
                "name": "u_def_ext_students",
                "_field": {"name": "school_email", "type": "String", "value": "a@x.org"},
            }
        }
    }
    assert extension_fields(one) == {"u_def_ext_students.school_email": "a@x.org"}
    many = {
        "_extension_data": {
            "_table_extension": [
                {"name": "A", "_field": [{"name": "x", "value": "1"}, {"name": "Y", "value": 2}]},
                {"name": "b", "_field": []},
            ]
        }
    }
    assert extension_fields(many) == {"a.x": "1", "a.y": 2}
    assert extension_fields({"_extension_data": ""}) == {}
