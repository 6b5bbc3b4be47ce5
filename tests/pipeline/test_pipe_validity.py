"""Validity, the last stage: every record valid against OneRoster, every fallback reported."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pipeline_factories import roster, user

from rostersync.export.oneroster.csv_export import build_files
from rostersync.pipeline import run_pipeline
from rostersync.pipeline.ids import SAFE_ID, decode_id, derived_id, escape_expr, split_derived_id
from rostersync.pipeline.validity import validity


def _reasons(report_records: pl.DataFrame) -> dict[str, str]:
    return dict(zip(report_records["sourcedId"], report_records["reason"], strict=True))


def test_names_get_the_documented_fallbacks() -> None:
    tables = roster(
        users=[
            user("c1", "guardian", None, "Mary Ann Smith"),
            user("c2", "guardian", None, "Cher"),
            user("c3", "parent", "", None),
            user("s1", "student", "Ann", "Lee"),
        ]
    )
    out, report = validity(tables)
    names = {
        r["sourcedId"]: (r["givenName"], r["familyName"])
        for r in out["users"].iter_rows(named=True)
    }
    assert names == {
        "c1": ("Mary Ann", "Smith"),
        "c2": ("Cher", "Cher"),
        "c3": ("Unknown", "Unknown"),
        "s1": ("Ann", "Lee"),
    }
    reasons = _reasons(report.records.filter(pl.col("reason").str.starts_with("name")))
    assert set(reasons) == {"c1"}
    all_reasons = _reasons(report.records)
    assert all_reasons["c2"].startswith("single-word name")
    assert all_reasons["c3"].startswith("no name")
    assert "s1" not in all_reasons


def test_username_defaults_to_the_email_then_the_sourced_id() -> None:
    tables = roster(
        users=[
            user("a", "guardian", "A", "B", username=None, email="a@example.org"),
            user("b", "guardian", "A", "B", username="", email=None),
            user("c", "student", "A", "B", username="kept", email="c@example.org"),
        ]
    )
    out, report = validity(tables)
    got = dict(zip(out["users"]["sourcedId"], out["users"]["username"], strict=True))
    assert got == {"a": "a@example.org", "b": "b", "c": "kept"}
    reasons = _reasons(report.records)
    assert reasons == {
        "a": "username absent: the email is used",
        "b": "username absent: the sourcedId is used",
    }


def test_primary_identifier_and_vocabularies() -> None:
    tables = roster(
        orgs=[
            {"sourcedId": "d", "name": "District", "type": "District"},
            {"sourcedId": "s", "name": "North", "type": "school", "identifier": "100"},
        ],
        classes=[
            {"sourcedId": "k1", "title": "Math", "classType": "Scheduled", "termSourcedIds": ["t"]},
            {"sourcedId": "k2", "title": "Art", "classType": "lab", "termSourcedIds": ["t"]},
        ],
        enrollments=[
            {"sourcedId": "e1", "role": "student"},
            {"sourcedId": "e2", "role": "teacher", "primary": True},
        ],
    )
    out, report = validity(tables)
    assert out["orgs"]["identifier"].to_list() == ["d", "100"]
    assert out["orgs"]["type"].to_list() == ["district", "school"]
    assert out["classes"]["classType"].to_list() == ["scheduled", "scheduled"]
    assert out["enrollments"]["primary"].to_list() == [False, True]
    reasons = _reasons(report.records)
    assert reasons["d"] == "identifier absent: the SIS ID is used"
    assert reasons["k2"] == "classType outside the OneRoster vocabulary: replaced by scheduled"
    assert "k1" not in reasons  # a case correction is not worth a report line


def test_unsafe_ids_are_escaped_everywhere_consistently() -> None:
    tables = roster(
        orgs=[{"sourcedId": "sch 1", "name": "North", "type": "school", "identifier": "1"}],
        users=[
            user("u~1", "student", "A", "B", orgSourcedIds=["sch 1"], agentSourcedIds=["p@1"]),
            user("p@1", "parent", "C", "D", orgSourcedIds=["sch 1"]),
        ],
        enrollments=[
            {"sourcedId": "e:1", "userSourcedId": "u~1", "schoolSourcedId": "sch 1"},
        ],
    )
    out, report = validity(tables)
    assert out["orgs"]["sourcedId"].to_list() == ["sch@201"]
    assert out["users"]["sourcedId"].to_list() == ["u@7E1", "p@1"]  # safe ids stay as they are
    assert out["users"]["orgSourcedIds"].to_list() == [["sch@201"], ["sch@201"]]
    assert out["users"]["agentSourcedIds"].to_list()[0] == ["p@1"]
    assert out["enrollments"].row(0, named=True)["userSourcedId"] == "u@7E1"
    assert out["enrollments"]["sourcedId"].to_list() == ["e@3A1"]
    assert decode_id("u@7E1") == "u~1"
    assert decode_id("sch@201") == "sch 1"
    escaped = set(report.records["sourcedId"])
    assert {"sch 1", "u~1", "e:1"} <= escaped
    for name, table in out.items():
        assert all(SAFE_ID.fullmatch(s) for s in table["sourcedId"]), name


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_escaping_is_safe_and_reversible(text: str) -> None:
    frame = pl.DataFrame({"id": [text]})
    chars = sorted({c for c in text if not SAFE_ID.fullmatch(c)})
    escaped = frame.select(escape_expr(pl.col("id"), chars))["id"][0]
    assert SAFE_ID.fullmatch(escaped) or len(escaped) > 255
    if chars:
        assert decode_id(escaped) == text
    else:
        assert escaped == text


@settings(max_examples=200, deadline=None)
@given(
    st.from_regex(r"[0-9A-Za-z.\-_/@]{1,30}", fullmatch=True),
    st.from_regex(r"[0-9A-Za-z.\-_/@]{1,30}", fullmatch=True),
)
def test_derived_ids_split_back_into_their_parts(user_id: str, org_id: str) -> None:
    frame = pl.DataFrame({"u": [user_id], "o": [org_id]})
    joined = frame.select(derived_id(pl.col("u"), pl.col("o")).alias("x"))["x"][0]
    assert SAFE_ID.fullmatch(joined)
    assert split_derived_id(joined) == [user_id, org_id]


def test_roles_csv_ids_are_guid_safe_and_name_their_parts() -> None:
    tables = roster(
        orgs=[{"sourcedId": "s/1", "name": "North", "type": "school", "identifier": "1"}],
        users=[user("u1", "teacher", "A", "B", orgSourcedIds=["s/1"])],
    )
    out, _ = validity(tables)
    roles = build_files(out, "1.2")["roles"]
    assert roles["sourcedId"].to_list() == ["u1/s@2F1"]
    assert split_derived_id("u1/s@2F1") == ["u1", "s/1"]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_csv_booleans_are_lowercase_and_bulk_status_blank(version: str) -> None:
    tables = roster(
        users=[user("u1", "teacher", "A", "B", orgSourcedIds=["s"])],
        orgs=[{"sourcedId": "s", "name": "N", "type": "school", "identifier": "1"}],
        enrollments=[{"sourcedId": "e1", "role": "teacher", "userSourcedId": "u1"}],
    )
    out, _ = validity(tables)
    files = build_files(out, version)
    assert files["users"]["enabledUser"].to_list() == ["true"]
    assert files["enrollments"]["primary"].to_list() == ["false"]
    for table in files.values():
        assert table["status"].null_count() == table.height
        assert table["dateLastModified"].null_count() == table.height


def test_the_run_report_counts_each_fallback(tmp_path: Path) -> None:
    from pipeline_factories import load

    tables = roster(
        users=[
            user("c1", "guardian", None, "Mary Smith", username=None, email="m@example.org"),
            user("c2", "guardian", None, "Cher", username=None),
            user("c3", "guardian", None, "Jo", username=None),
        ]
    )
    _, report = run_pipeline({"sis": tables}, load(tmp_path))
    counts = {
        r["reason"]: r["count"] for r in report.to_dict()["reasons"] if r["stage"] == "validity"
    }
    assert counts == {
        "name incomplete: last word as familyName, the rest as givenName": 1,
        "single-word name: used as both givenName and familyName": 2,
        "username absent: the email is used": 1,
        "username absent: the sourcedId is used": 2,
    }


def test_a_user_without_an_org_belongs_to_the_district() -> None:
    tables = roster(
        orgs=[
            {"sourcedId": "d", "name": "District", "type": "district", "identifier": "D"},
            {"sourcedId": "s", "name": "North", "type": "school", "identifier": "1"},
        ],
        users=[
            user("c1", "guardian", "A", "B"),
            user("c2", "guardian", "A", "B", orgSourcedIds=[]),
            user("t1", "teacher", "A", "B", orgSourcedIds=["s"]),
            user("t2", "teacher", "A", "B", primaryOrgSourcedId="s"),
        ],
    )
    out, report = validity(tables)
    got = dict(zip(out["users"]["sourcedId"], out["users"]["orgSourcedIds"].to_list(), strict=True))
    assert got == {"c1": ["d"], "c2": ["d"], "t1": ["s"], "t2": ["s"]}
    assert _reasons(report.records) == {
        "c1": "no org: the district org is used",
        "c2": "no org: the district org is used",
    }


def test_titles_codes_and_class_terms_get_their_fallbacks() -> None:
    tables = roster(
        courses=[
            {"sourcedId": "c1", "title": None, "courseCode": "ALG", "schoolYearSourcedId": "y"},
            {"sourcedId": "c2", "title": "Art", "courseCode": None},
        ],
        classes=[
            {
                "sourcedId": "k1",
                "title": None,
                "courseSourcedId": "c2",
                "classCode": "3",
                "termSourcedIds": ["t"],
            },
            {"sourcedId": "k2", "title": "A", "courseSourcedId": "c1", "termSourcedIds": []},
            {"sourcedId": "k3", "title": "B", "courseSourcedId": "c2", "termSourcedIds": None},
        ],
        enrollments=[
            {"sourcedId": "e1", "classSourcedId": "k3", "role": "student"},
            {"sourcedId": "e2", "classSourcedId": "k1", "role": "student"},
        ],
    )
    out, report = validity(tables)
    courses = {r["sourcedId"]: (r["title"], r["courseCode"]) for r in out["courses"].to_dicts()}
    assert courses == {"c1": ("ALG", "ALG"), "c2": ("Art", "c2")}
    classes = {r["sourcedId"]: (r["title"], r["termSourcedIds"]) for r in out["classes"].to_dicts()}
    assert classes == {"k1": ("Art 3", ["t"]), "k2": ("A", ["y"])}
    assert out["enrollments"]["sourcedId"].to_list() == ["e2"]
    removed = report.records.filter(pl.col("action") == "removed")
    assert dict(zip(removed["sourcedId"], removed["reason"], strict=True)) == {
        "k3": "no term and no school year on its course",
        "e1": "its class was removed (no term)",
    }


def test_decoding_text_that_no_escape_wrote_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not an escaped sourcedId"):
        decode_id("u@FF")
