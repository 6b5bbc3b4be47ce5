"""An independent OneRoster CSV reader for the tests, written from the column reference JSON:
reads a package with the standard csv module, checks formats, and re-imports rows into
canonical-looking records to compare with the roster they came from."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from rostersync.export.oneroster.csv_headers import HEADERS
from rostersync.model import Roster

COLUMNS_JSON = (
    Path(__file__).parents[2].parent / "shared/reference/oneroster-data/oneroster-csv-columns.json"
)


def load_reference() -> dict[str, Any]:
    if not COLUMNS_JSON.exists():
        pytest.skip(f"OneRoster column reference not found at {COLUMNS_JSON}")
    return dict(json.loads(COLUMNS_JSON.read_text(encoding="utf-8")))


def vkey(version: str) -> str:
    return "v1p1" if version == "1.1" else "v1p2"


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
        if (
            name == "demographics"
            and version == "1.1"
            and row.get("sex") not in (None, "male", "female")
        ):
            row["sex"] = None  # 1.1 knows only male/female
        if name == "users" and version == "1.2" and row.get("primaryOrgSourcedId"):
            # roles.csv lists the primary org first
            orgs = row["orgSourcedIds"]
            row["orgSourcedIds"] = sorted(orgs)
        elif name == "users" and row.get("orgSourcedIds"):
            row["orgSourcedIds"] = sorted(row["orgSourcedIds"])
    return rows
