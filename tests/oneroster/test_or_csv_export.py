"""OneRoster CSV export: exact headers from the column reference, formats, manifest, bulk and delta,
sharing — checked by an independent reader written here from the reference JSON."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from or_csv_reader import (
    as_records,
    check_formats,
    expected,
    load_reference,
    normalise,
    read_package,
    to_canonical,
    vkey,
)
from or_sample_roster import small_roster

from rostersync.export.oneroster import SharingRules, write_package
from rostersync.export.oneroster.csv_headers import FILE_SETS, HEADERS

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    return load_reference()


# --- tests -----------------------------------------------------------------------------------


def test_our_header_lists_match_the_reference(reference: dict[str, Any]) -> None:
    for version in ("1.1", "1.2"):
        files = reference[vkey(version)]["files"]
        assert [f"{n}.csv" for n in FILE_SETS[version]] == sorted(
            files, key=lambda n: FILE_SETS[version].index(n.removesuffix(".csv"))
        )
        assert set(files) == {f"{n}.csv" for n in FILE_SETS[version]}
        for name, headers in HEADERS[version].items():
            assert list(headers) == [c["name"] for c in files[f"{name}.csv"]], (version, name)


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_bulk_round_trip(tmp_path: Path, reference: dict[str, Any], version: str) -> None:
    roster = small_roster()
    out = tmp_path / "bulk.zip"
    result = write_package(out, roster, version, system_code="springfield")
    files = read_package(out)
    ref = reference[vkey(version)]["files"]
    manifest = {r[0]: r[1] for r in files["manifest.csv"][1:]}
    assert files["manifest.csv"][0] == reference["manifest"]["header"]
    assert manifest["manifest.version"] == "1.0"
    assert manifest["oneroster.version"] == version
    for name in ref:
        key = f"file.{name.removesuffix('.csv')}"
        assert manifest[key] == ("bulk" if name in files else "absent"), key
    for name, rows in files.items():
        if name != "manifest.csv":
            assert rows[0] == [c["name"] for c in ref[name]], name
            assert len(rows) > 1, f"{name} has a header but no rows"
            assert all(r[1] == "" and r[2] == "" for r in rows[1:]), f"{name}: bulk status/date"
    check_formats(reference, version, files)
    got = to_canonical(version, files)
    want = expected(roster, version)
    assert set(got) == set(want)
    for name in want:
        assert normalise(got[name], version, name) == normalise(want[name], version, name), name
    assert result.files["users"] == roster["users"].height


def test_lists_and_commas_are_quoted(tmp_path: Path) -> None:
    write_package(tmp_path / "out", small_roster(), "1.1")
    text = (tmp_path / "out" / "classes.csv").read_text(encoding="utf-8")
    assert '"as-t1,as-t2"' in text
    assert '"Art, Studio"' in text
    assert '"Biology ""Lab"""' in text
    users = (tmp_path / "out" / "users.csv").read_text(encoding="utf-8")
    assert '"{LDAP:tess},{LTI:t-1}"' in users
    assert ",true," in users
    assert ",TRUE," not in users


def test_roles_file_marks_primary_org(tmp_path: Path) -> None:
    write_package(tmp_path / "out", small_roster(), "1.2")
    with (tmp_path / "out" / "roles.csv").open(encoding="utf-8", newline="") as fh:
        roles = {r["sourcedId"]: r for r in csv.DictReader(fh)}
    assert roles["u-t1/org-s1"]["roleType"] == "primary"
    assert roles["u-t1/org-s2"]["roleType"] == "secondary"
    assert roles["u-t2/org-s2"]["roleType"] == "primary"  # no primary org: the first
    assert roles["u-a1/org-d1"]["role"] == "siteAdministrator"


def test_delta_lists_changes_with_status_and_date(
    tmp_path: Path, reference: dict[str, Any]
) -> None:
    before = small_roster()
    after = {k: v.clone() for k, v in before.items()}
    users = after["users"]
    after["users"] = users.with_columns(
        pl.when(pl.col("sourcedId") == "u-s2")
        .then(pl.lit("Bobby"))
        .otherwise(pl.col("givenName"))
        .alias("givenName")
    ).filter(pl.col("sourcedId") != "u-s3")
    out = tmp_path / "delta.zip"
    write_package(out, after, "1.2", previous=before, now=NOW)
    files = read_package(out)
    manifest = {r[0]: r[1] for r in files["manifest.csv"][1:]}
    assert manifest["file.users"] == "delta"
    assert manifest["file.classes"] == "absent"
    users_rows = {r["sourcedId"]: r for r in as_records(files["users.csv"])}
    assert set(users_rows) == {"u-s2", "u-s3"}
    assert users_rows["u-s2"]["status"] == "active"
    assert users_rows["u-s2"]["dateLastModified"] == "2025-08-01T12:00:00.123Z"
    assert users_rows["u-s3"]["status"] == "tobedeleted"
    assert users_rows["u-s3"]["dateLastModified"] == "2026-01-02T03:04:05.678Z"
    roles = {r["sourcedId"]: r for r in as_records(files["roles.csv"])}
    assert roles["u-s3/org-s2"]["status"] == "tobedeleted"
    check_formats(reference, "1.2", files)
    for name, rows in files.items():
        if name != "manifest.csv":
            assert all(r[1] != "" and r[2] != "" for r in rows[1:]), name


def test_delta_of_identical_rosters_is_empty(tmp_path: Path) -> None:
    roster = small_roster()
    result = write_package(tmp_path / "d", roster, "1.1", previous=roster, now=NOW)
    assert result.files == {}
    manifest = (tmp_path / "d" / "manifest.csv").read_text(encoding="utf-8")
    assert "file.users,absent" in manifest


def test_sharing_rules_limit_the_export(tmp_path: Path) -> None:
    rules = SharingRules.build(
        schools=["org-s1"],
        entities=["orgs", "academicSessions", "courses", "classes", "enrollments", "students"],
        fields=["users.givenName"],
    )
    write_package(tmp_path / "x", rules.apply(small_roster()), "1.1")
    files = {p.name for p in (tmp_path / "x").iterdir()}
    assert "demographics.csv" not in files
    with (tmp_path / "x" / "users.csv").open(encoding="utf-8", newline="") as fh:
        users = list(csv.DictReader(fh))
    assert {u["sourcedId"] for u in users} == {"u-s1", "u-s2"}
    assert all(u["email"] == "" and u["agentSourcedIds"] == "" for u in users)
    with (tmp_path / "x" / "enrollments.csv").open(encoding="utf-8", newline="") as fh:
        enrollments = list(csv.DictReader(fh))
    assert {e["sourcedId"] for e in enrollments} == {"e-1", "e-2", "e-3"}
    with (tmp_path / "x" / "orgs.csv").open(encoding="utf-8", newline="") as fh:
        assert {o["sourcedId"] for o in csv.DictReader(fh)} == {"org-d1", "org-s1"}
