"""The CSV exports (bulk and delta, 1.1 and 1.2) of a district synced twice pass a strict
validator."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from conformance_csv import ids_of, summarize, validate_package
from conformance_data import Synced

PACKAGES = [("1.1", "bulk"), ("1.1", "delta"), ("1.2", "bulk"), ("1.2", "delta")]
MOODLE = Path("/work/shared/reference/oneroster-data")


@pytest.mark.parametrize(("version", "mode"), PACKAGES)
def test_package_passes_the_strict_validator(synced: Synced, version: str, mode: str) -> None:
    report = validate_package(version, synced.packages[(version, mode)])
    assert not report.errors, summarize(report.errors)
    assert report.modes, "the manifest lists no files"
    filled = {n for n, m in report.modes.items() if m != "absent"}
    rostered = {"orgs", "academicSessions", "courses", "classes", "users", "enrollments"}
    # the day changed people and schedules only, so a delta holds just those files
    assert ({"users", "enrollments"} if mode == "delta" else rostered) <= filled
    assert all(m in (mode, "absent") for m in report.modes.values())


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_bulk_package_holds_the_published_roster(synced: Synced, version: str) -> None:
    report = validate_package(version, synced.packages[(version, "bulk")])
    for name in ("orgs", "academicSessions", "courses", "classes", "users", "enrollments"):
        table = synced.second[name]
        active = set(table.filter(table["status"] != "tobedeleted")["sourcedId"].to_list())
        assert ids_of(report, name) == active, name


def test_delta_package_carries_the_second_days_changes_and_deletions(synced: Synced) -> None:
    report = validate_package("1.2", synced.packages[("1.2", "delta")])
    statuses = {r["status"] for rows in report.rows.values() for r in rows}
    assert statuses == {"active", "tobedeleted"}, "the day had both changes and deletions"
    gone = ids_of(report, "enrollments") & (
        set(synced.first["enrollments"]["sourcedId"].to_list())
        - set(synced.second["enrollments"]["sourcedId"].to_list())
    )
    deleted = {r["sourcedId"] for r in report.rows["enrollments"] if r["status"] == "tobedeleted"}
    assert gone <= deleted


# --- the validator itself rejects what a strict consumer rejects --------------------------------


def _good_12() -> dict[str, bytes]:
    from conformance_columns import COLUMNS

    manifest = "propertyName,value\r\nmanifest.version,1.0\r\noneroster.version,1.2\r\n" + "".join(
        f"file.{n},{'bulk' if n == 'orgs' else 'absent'}\r\n" for n in COLUMNS["1.2"]
    )
    orgs = (
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\r\n"
        "d1,,,District,district,D1,\r\ns1,,,North,school,100,d1\r\n"
    )
    return {"manifest.csv": manifest.encode(), "orgs.csv": orgs.encode()}


def test_validator_accepts_a_minimal_good_package() -> None:
    assert validate_package("1.2", _good_12()).errors == []


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (b"s1,,,North", b"s~1,,,North", "is not a GUID"),
        (b"school,100,d1", b"School,100,d1", "is not one of"),
        (b"school,100,d1", b"school,100,d9", "is not in orgs.csv"),
        (b"s1,,,North", b"s1,active,,North", "must be blank in a bulk file"),
        (b"d1,,,District", b"d1,,,", "required value is blank"),
        (b"d1,,,District", b"s1,,,District", "repeats"),
    ],
)
def test_validator_rejects_a_bad_orgs_file(old: bytes, new: bytes, message: str) -> None:
    files = _good_12()
    files["orgs.csv"] = files["orgs.csv"].replace(old, new)
    errors = validate_package("1.2", files).errors
    assert any(message in e for e in errors), errors


def test_validator_rejects_a_manifest_missing_a_file_key() -> None:
    files = _good_12()
    files["manifest.csv"] = files["manifest.csv"].replace(b"file.roles,absent\r\n", b"")
    assert "manifest.csv: file.roles is not listed" in validate_package("1.2", files).errors


def test_validator_finds_the_known_faults_of_a_third_party_package() -> None:
    path = MOODLE / "moodle-v1p2-delta.zip"
    if not path.exists():
        pytest.skip(f"{path} is not available")
    with zipfile.ZipFile(path) as zf:
        files = {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
    errors = validate_package("1.2", files).errors
    assert any("enabledUser" in e and "lowercase true/false" in e for e in errors), errors
