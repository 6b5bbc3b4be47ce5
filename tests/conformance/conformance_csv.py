"""A strict OneRoster CSV package validator (1.1 and 1.2), written from the CSV bindings.

Checks what a strict consumer's validator checks: the ZIP layout (every file at the root), the
manifest (header, versions, one ``file.<name>`` key for every file of the version's set, modes,
present files exactly the non-absent ones), RFC 4180 / UTF-8 text, exact header order, no file
with a header and no rows, required values, the GUID character set, enumerations, lowercase
booleans, dates and UTC date-times, ``status``/``dateLastModified`` blank in bulk and set in
delta, unique sourcedIds per file, and (bulk) reference integrity between the files.

Independent of the exporter: it imports nothing from the project.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import get_args

from conformance_columns import COLUMNS
from conformance_models import ENROLLMENT_ROLES, ROLES_1P2, SEX_1P1, SEX_1P2

GUID = re.compile(r"^[0-9A-Za-z.\-_/@]{1,255}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
YEAR = re.compile(r"^\d{4}$")
USER_ID = re.compile(r"^\{[^{}:]+:[^{}]+\}$")
BOOLEAN = frozenset({"true", "false"})
CEDS_GRADES = frozenset(
    ["IT", "PR", "PK", "TK", "KG", "PS", "UG", "Other"] + [f"{g:02d}" for g in range(1, 14)]
)
EXT_TOKEN = re.compile(r"^ext:[A-Za-z0-9._-]+$")
ROLES_1P1 = ("administrator", "aide", "guardian", "parent", "proctor", "relative", "student")

ENUMS: dict[str, dict[tuple[str, str], frozenset[str]]] = {
    "1.1": {
        ("academicSessions", "type"): frozenset(
            {"gradingPeriod", "semester", "schoolYear", "term"}
        ),
        ("orgs", "type"): frozenset(
            {"department", "school", "district", "local", "state", "national"}
        ),
        ("classes", "classType"): frozenset({"homeroom", "scheduled"}),
        ("enrollments", "role"): frozenset(get_args(ENROLLMENT_ROLES)),
        ("users", "role"): frozenset({*ROLES_1P1, "teacher"}),
        ("demographics", "sex"): frozenset(get_args(SEX_1P1)),
    },
}
ENUMS["1.2"] = {
    **{k: v for k, v in ENUMS["1.1"].items() if k[0] != "users"},
    ("demographics", "sex"): frozenset(get_args(SEX_1P2)),
    ("roles", "roleType"): frozenset({"primary", "secondary"}),
    ("roles", "role"): frozenset(get_args(ROLES_1P2)),
}

BOOLEAN_COLUMNS = frozenset(
    {
        "enabledUser",
        "primary",
        "americanIndianOrAlaskaNative",
        "asian",
        "blackOrAfricanAmerican",
        "nativeHawaiianOrOtherPacificIslander",
        "white",
        "demographicRaceTwoOrMoreRaces",
        "hispanicOrLatinoEthnicity",
    }
)
DATE_COLUMNS = frozenset({"startDate", "endDate", "beginDate", "birthDate"})
LIST_COLUMNS = frozenset(
    {
        "grades",
        "subjects",
        "subjectCodes",
        "periods",
        "termSourcedIds",
        "orgSourcedIds",
        "agentSourcedIds",
        "userIds",
    }
)

#: (file, column) → the file whose sourcedIds it must name (bulk packages).
REFERENCES: dict[tuple[str, str], str] = {
    ("orgs", "parentSourcedId"): "orgs",
    ("academicSessions", "parentSourcedId"): "academicSessions",
    ("courses", "schoolYearSourcedId"): "academicSessions",
    ("courses", "orgSourcedId"): "orgs",
    ("classes", "courseSourcedId"): "courses",
    ("classes", "schoolSourcedId"): "orgs",
    ("classes", "termSourcedIds"): "academicSessions",
    ("enrollments", "classSourcedId"): "classes",
    ("enrollments", "schoolSourcedId"): "orgs",
    ("enrollments", "userSourcedId"): "users",
    ("users", "orgSourcedIds"): "orgs",
    ("users", "agentSourcedIds"): "users",
    ("users", "primaryOrgSourcedId"): "orgs",
    ("roles", "userSourcedId"): "users",
    ("roles", "orgSourcedId"): "orgs",
    ("demographics", "sourcedId"): "users",
}


@dataclass
class Report:
    """Every violation found, as ``file:row:column: message`` lines."""

    errors: list[str] = field(default_factory=list)
    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)

    def add(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")


def _split_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",")] if value else []


def _read(report: Report, name: str, data: bytes) -> list[list[str]] | None:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.add(name, f"not UTF-8 ({exc})")
        return None
    try:
        return list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        report.add(name, f"not RFC 4180 CSV ({exc})")
        return None


def _manifest(report: Report, version: str, files: Mapping[str, bytes]) -> dict[str, str]:
    rows = _read(report, "manifest.csv", files["manifest.csv"]) if "manifest.csv" in files else None
    if rows is None:
        report.add("manifest.csv", "missing or unreadable")
        return {}
    if rows[0] != ["propertyName", "value"]:
        report.add("manifest.csv:1", f"header {rows[0]} is not propertyName,value")
    props: dict[str, str] = {}
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != 2:
            report.add(f"manifest.csv:{i}", f"{len(row)} fields, expected 2")
            continue
        if row[0] in props:
            report.add(f"manifest.csv:{i}", f"{row[0]} listed twice")
        props[row[0]] = row[1]
    if props.get("manifest.version") != "1.0":
        report.add("manifest.csv", f"manifest.version {props.get('manifest.version')!r} != '1.0'")
    if props.get("oneroster.version") != version:
        report.add("manifest.csv", f"oneroster.version {props.get('oneroster.version')!r}")
    modes: dict[str, str] = {}
    expected = set(COLUMNS[version])
    for key, value in props.items():
        if key.startswith("file."):
            name = key[5:]
            if name not in expected:
                report.add("manifest.csv", f"{key}: not a file of OneRoster {version}")
            if value not in ("bulk", "delta", "absent"):
                report.add("manifest.csv", f"{key}: mode {value!r} is not bulk, delta or absent")
            modes[name] = value
        elif key not in ("manifest.version", "oneroster.version") and not key.startswith("source."):
            report.add("manifest.csv", f"unknown property {key}")
    for name in sorted(expected - set(modes)):
        report.add("manifest.csv", f"file.{name} is not listed")
    return modes


def validate_package(version: str, files: Mapping[str, bytes]) -> Report:
    """Validate a package given as ``{archive member name: bytes}``."""
    report = Report()
    for member in files:
        if "/" in member or "\\" in member:
            report.add(member, "not at the root of the package")
    report.modes = modes = _manifest(report, version, files)
    present = {m[:-4] for m in files if m.endswith(".csv") and m != "manifest.csv"}
    for name in sorted(present):
        if modes.get(name, "absent") == "absent":
            report.add(f"{name}.csv", "in the package but not bulk/delta in the manifest")
    for name, mode in sorted(modes.items()):
        if mode != "absent" and name not in present:
            report.add(f"{name}.csv", f"manifest says {mode} but the file is missing")
    for m in files:
        if m != "manifest.csv" and not m.endswith(".csv"):
            report.add(m, "not a CSV file")
    for name in sorted(present & set(COLUMNS[version])):
        _file(report, version, name, modes.get(name, "absent"), files[f"{name}.csv"])
    if modes and all(m in ("bulk", "absent") for m in modes.values()):
        _references(report)
    return report


def _file(report: Report, version: str, name: str, mode: str, data: bytes) -> None:
    fname = f"{name}.csv"
    rows = _read(report, fname, data)
    if rows is None:
        return
    if b"\r" in data.replace(b"\r\n", b""):
        report.add(fname, "carriage return inside a field")
    spec = COLUMNS[version][name]
    header = [c for c, _ in spec]
    if not rows:
        report.add(fname, "empty file (no header)")
        return
    got = rows[0]
    standard = got[: len(header)]
    if standard != header:
        report.add(f"{fname}:1", f"header {got} differs from {header}")
        return
    extra = got[len(header) :]
    if any(not h.startswith("metadata.") for h in extra):
        report.add(f"{fname}:1", f"extension columns {extra} must be named metadata.<name>")
    if len(set(got)) != len(got):
        report.add(f"{fname}:1", "header names repeat")
    if len(rows) == 1:
        report.add(fname, "a header and no data rows (the manifest must say absent)")
    seen: set[str] = set()
    parsed: list[dict[str, str]] = []
    enums = ENUMS[version]
    for i, row in enumerate(rows[1:], start=2):
        where = f"{fname}:{i}"
        if len(row) != len(got):
            report.add(where, f"{len(row)} fields, header has {len(got)}")
            continue
        rec = dict(zip(got, row, strict=True))
        parsed.append(rec)
        sid = rec["sourcedId"]
        if sid in seen:
            report.add(where, f"sourcedId {sid!r} repeats")
        seen.add(sid)
        for column, req in spec:
            _value(
                report, f"{where}:{column}", version, name, column, req, mode, rec[column], enums
            )
        subjects, codes = rec.get("subjects"), rec.get("subjectCodes")
        if subjects and codes and len(_split_list(subjects)) != len(_split_list(codes)):
            report.add(where, "subjects and subjectCodes differ in length")
        if name == "academicSessions" and rec["startDate"] > rec["endDate"] != "":
            report.add(where, "startDate after endDate")
    report.rows[name] = parsed


def _value(
    report: Report,
    where: str,
    version: str,
    name: str,
    column: str,
    req: str,
    mode: str,
    value: str,
    enums: Mapping[tuple[str, str], frozenset[str]],
) -> None:
    if req == "D":
        if mode == "bulk" and value != "":
            report.add(where, f"must be blank in a bulk file, got {value!r}")
        if mode == "delta":
            if column == "status" and value not in ("active", "tobedeleted"):
                report.add(where, f"status {value!r} is not active or tobedeleted")
            if column == "dateLastModified" and not _is_datetime(value):
                report.add(where, f"{value!r} is not a UTC date-time")
        return
    if value == "":
        if req == "R":
            report.add(where, "required value is blank")
        return
    if value.strip() != value or not value.strip():
        report.add(where, f"{value!r} has surrounding whitespace")
    if column.endswith("SourcedId") or column == "sourcedId":
        if not GUID.fullmatch(value):
            report.add(where, f"{value!r} is not a GUID (0-9 A-Z a-z . - _ / @, 1-255)")
    elif column.endswith("SourcedIds"):
        for item in _split_list(value):
            if not GUID.fullmatch(item):
                report.add(where, f"list item {item!r} is not a GUID")
    if column in BOOLEAN_COLUMNS and value not in BOOLEAN:
        report.add(where, f"{value!r} is not lowercase true/false")
    if column in DATE_COLUMNS and not _is_date(value):
        report.add(where, f"{value!r} is not a date YYYY-MM-DD")
    if column == "schoolYear" and not YEAR.fullmatch(value):
        report.add(where, f"{value!r} is not a year YYYY")
    allowed = enums.get((name, column))
    if (
        allowed is not None
        and value not in allowed
        and not (version == "1.2" and EXT_TOKEN.fullmatch(value))
    ):
        report.add(where, f"{value!r} is not one of {sorted(allowed)}")
    if column == "grades":
        bad = [g for g in _split_list(value) if g not in CEDS_GRADES]
        if bad:
            report.add(where, f"grades {bad} are not CEDS entry grade codes")
    if column == "userIds":
        bad = [u for u in _split_list(value) if not USER_ID.fullmatch(u)]
        if bad:
            report.add(where, f"userIds {bad} are not {{type:identifier}}")
    if column in LIST_COLUMNS and any(v == "" for v in _split_list(value)):
        report.add(where, "empty list item")


def _is_date(value: str) -> bool:
    if not DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_datetime(value: str) -> bool:
    if not DATETIME.fullmatch(value):
        return False
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _references(report: Report) -> None:
    ids = {name: {r["sourcedId"] for r in rows} for name, rows in report.rows.items()}
    for (name, column), target in REFERENCES.items():
        for i, rec in enumerate(report.rows.get(name, []), start=2):
            value = rec.get(column, "")
            for ref in _split_list(value) if column.endswith("s") else [value] if value else []:
                if ref not in ids.get(target, set()):
                    report.add(f"{name}.csv:{i}:{column}", f"{ref!r} is not in {target}.csv")


def ids_of(report: Report, name: str) -> set[str]:
    return {r["sourcedId"] for r in report.rows.get(name, [])}


def summarize(errors: Iterable[str], limit: int = 40) -> str:
    errors = list(errors)
    head = "\n".join(errors[:limit])
    more = f"\n… and {len(errors) - limit} more" if len(errors) > limit else ""
    return f"{len(errors)} violation(s):\n{head}{more}"
