"""OneRoster CSV export: exact headers from the column reference, formats, manifest, bulk and delta,
sharing — checked by an independent reader written here from the reference JSON."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from or_sample_roster import small_roster

from rostersync.export.oneroster import SharingRules, write_package
from rostersync.export.oneroster.csv_headers import FILE_SETS, HEADERS
from rostersync.model import Roster

COLUMNS_JSON = (
    Path(__file__).parents[2].parent / "shared/reference/oneroster-data/oneroster-csv-columns.json"
)
NOW = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    if not COLUMNS_JSON.exists():
        pytest.skip(f"OneRoster column reference not found at {COLUMNS_JSON}")
    return json.loads(COLUMNS_JSON.read_text(encoding="utf-8"))


def vkey(version: str) -> str:
    return "v1p1" if version == "1.1" else "v1p2"


# --- the independent reader ------------------------------------------------------------------


def read_package(path: Path) -> dict[str, list[list[str]]]:
    """Every CSV in a zip as raw rows (header first), read with the standard csv module."""
    out: dict[str, list[list[str]]] = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            assert "/" not in name, "files must sit at the root of the package"
            text = zf.read(name).decode("utf-8-sig")
            out[name] = list(csv.reader(io.StringIO(text, newline="")))
    return out


def as_records(rows: list[list[str]]) -> list[dict[str, str]]:
    header, *body = rows
    return [dict(zip(header, r, strict=True)) for r in body]


def check_formats(
    reference: dict[str, Any], version: str, files: dict[str, list[list[str]]]
) -> None:
    """Formats per the binding: dates, timestamps, booleans, enums, required cells."""
    enums = reference["enums"]
    date = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    stamp = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
    cols = reference[vkey(version)]["files"]
    for name, rows in files.items():
        if name == "manifest.csv":
            continue
        spec = cols[name]
        for i, record in enumerate(as_records(rows), start=2):
            for col in spec:
                value = record[col["name"]]
                where = f"{name} row {i} {col['name']}"
                if col["required"] is True:
                    assert value != "", f"{where}: required but empty"
                if value == "":
                    continue
                if col["name"] in ("startDate", "endDate", "beginDate", "birthDate"):
                    assert date.match(value), where
                if col["name"] == "dateLastModified":
                    assert stamp.match(value), where
                if col["name"] in ("enabledUser", "primary", "white", "asian"):
                    assert value in enums["trueFalse"], where
                if col["name"] == "status":
                    assert value in enums["status"], where
            if name == "classes.csv":
                assert record["classType"] in enums["classType"]
            if name == "enrollments.csv":
                assert record["role"] in enums["enrollmentRole"]
            if name == "users.csv" and version == "1.1":
                assert record["role"] in enums["userRole_v1p1"]
            if name == "roles.csv":
                assert record["role"] in enums["roleRole_v1p2"]
                assert record["roleType"] in enums["roleType_v1p2"]


def _list(value: str) -> list[str] | None:
    return value.split(",") if value else None


def _bool(value: str) -> bool | None:
    return None if value == "" else {"true": True, "false": False}[value]


def _date(value: str) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def to_canonical(
    version: str, files: dict[str, list[list[str]]]
) -> dict[str, list[dict[str, Any]]]:
    """Re-import the package into canonical-looking records (the columns OneRoster carries)."""
    lists = {"grades", "subjects", "subjectCodes", "periods", "termSourcedIds", "orgSourcedIds"}
    lists |= {"agentSourcedIds"}
    bools = {"enabledUser", "primary", "white", "asian", "hispanicOrLatinoEthnicity"}
    bools |= {"americanIndianOrAlaskaNative", "blackOrAfricanAmerican"}
    bools |= {"nativeHawaiianOrOtherPacificIslander", "demographicRaceTwoOrMoreRaces"}
    dates = {"startDate", "endDate", "beginDate", "birthDate"}
    out: dict[str, list[dict[str, Any]]] = {}
    for name, rows in files.items():
        if name in ("manifest.csv", "roles.csv"):
            continue
        records = []
        for rec in as_records(rows):
            conv: dict[str, Any] = {}
            for key, value in rec.items():
                if key in ("status", "dateLastModified", "password"):
                    continue
                if key == "userIds":
                    conv[key] = [v.strip("{}") for v in value.split(",")] if value else None
                elif key in lists:
                    conv[key] = _list(value)
                elif key in bools:
                    conv[key] = _bool(value)
                elif key in dates:
                    conv[key] = _date(value)
                else:
                    conv[key] = value or None
            records.append(conv)
        out[name.removesuffix(".csv")] = records
    if version == "1.2":
        renames = {
            "preferredGivenName": "preferredFirstName",
            "preferredFamilyName": "preferredLastName",
        }
        roles: dict[str, list[dict[str, str]]] = {}
        for rec in as_records(files["roles.csv"]):
            roles.setdefault(rec["userSourcedId"], []).append(rec)
        for user in out["users"]:
            for old, new in renames.items():
                user[new] = user.pop(old)
            for extra in ("userMasterIdentifier", "preferredMiddleName", "pronouns"):
                assert user.pop(extra) is None
            mine = roles[user["sourcedId"]]
            role = mine[0]["role"]
            user["role"] = "administrator" if role == "siteAdministrator" else role
            user["orgSourcedIds"] = [r["orgSourcedId"] for r in mine]
    return out


def expected(roster: Roster, version: str) -> dict[str, list[dict[str, Any]]]:
    """The roster's records restricted to the columns the version's files carry."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, headers in HEADERS[version].items():
        if name == "roles":
            continue
        cols = [h for h in headers if h not in ("status", "dateLastModified", "password")]
        if version == "1.2" and name == "users":
            cols = [
                {
                    "preferredGivenName": "preferredFirstName",
                    "preferredFamilyName": "preferredLastName",
                }.get(c, c)
                for c in cols
                if c not in ("userMasterIdentifier", "preferredMiddleName", "pronouns")
            ]
            cols += ["role", "orgSourcedIds"]
        table = roster[name]
        present = [c for c in cols if c in table.columns]
        rows = table.select(present).sort("sourcedId").to_dicts()
        for row in rows:
            for c in cols:
                row.setdefault(c, None)
        out[name] = rows
    return out


def normalise(records: list[dict[str, Any]], version: str, name: str) -> list[dict[str, Any]]:
    rows = sorted(records, key=lambda r: r["sourcedId"])
    for row in rows:
        for k, v in list(row.items()):
            if isinstance(v, list) and not v:
                row[k] = None
        if name == "users" and version == "1.2" and row.get("primaryOrgSourcedId"):
            # roles.csv lists the primary org first
            orgs = row["orgSourcedIds"]
            row["orgSourcedIds"] = sorted(orgs)
        elif name == "users" and row.get("orgSourcedIds"):
            row["orgSourcedIds"] = sorted(row["orgSourcedIds"])
    return rows


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
    assert roles["u-t1~org-s1"]["roleType"] == "primary"
    assert roles["u-t1~org-s2"]["roleType"] == "secondary"
    assert roles["u-t2~org-s2"]["roleType"] == "primary"  # no primary org: the first
    assert roles["u-a1~org-d1"]["role"] == "siteAdministrator"


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
    assert roles["u-s3~org-s2"]["status"] == "tobedeleted"
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
