"""Lenient where real packages commonly deviate — and every leniency is reported."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from csv_helpers import PackageFactory, edit, extract, failure, lines, set_manifest

REFERENCE = Path("/work/shared/reference/oneroster-data")


def _notices(result: object) -> list[str]:
    return result.stats["notices"]  # type: ignore[attr-defined, no-any-return]


def test_a_bom_and_crlf_are_read_and_reported(make_package: PackageFactory) -> None:
    pkg = make_package("1.2")
    raw = (pkg / "orgs.csv").read_bytes()
    (pkg / "orgs.csv").write_bytes(b"\xef\xbb\xbf" + raw.replace(b"\r\n", b"\n"))
    result = extract(pkg)
    assert result.roster["orgs"].height == raw.count(b"\r\n") - 1
    assert "orgs.csv: starts with a UTF-8 byte-order mark (ignored)" in _notices(result)
    assert "users.csv: CRLF line ends (read as line ends)" in _notices(result)


def test_columns_in_another_order_are_read_by_name(make_package: PackageFactory) -> None:
    pkg = make_package("1.2")
    before = extract(pkg).roster["courses"]
    table = pl.read_csv(pkg / "courses.csv", infer_schema=False)
    table.select(list(reversed(table.columns))).write_csv(pkg / "courses.csv")
    result = extract(pkg)
    assert result.roster["courses"].sort("sourcedId").equals(before.sort("sourcedId"))
    assert "courses.csv row 1: columns are not in the binding's order (read by name)" in _notices(
        result
    )


def test_extra_columns_are_kept_as_metadata(make_package: PackageFactory) -> None:
    pkg = make_package("1.2")
    rows = lines(pkg, "orgs.csv")
    out = [rows[0] + ",metadata.region,colour"] + [r + ",North,blue" for r in rows[1:]]
    edit(pkg, "orgs.csv", "\n".join(out) + "\n")
    result = extract(pkg)
    assert set(result.roster["orgs"]["metadata"]) == {'{"colour":"blue","region":"North"}'}
    assert "orgs.csv row 1, column colour: unknown column kept as metadata" in _notices(result)


def test_a_missing_optional_file_is_reported(make_package: PackageFactory) -> None:
    pkg = make_package("1.2")
    (pkg / "demographics.csv").unlink()
    set_manifest(pkg, "file.demographics", "absent")
    result = extract(pkg)
    assert result.roster["demographics"].height == 0
    assert result.roster["users"].height > 0
    assert "demographics.csv: absent: nothing imported from it" in _notices(result)


def test_a_missing_optional_column_is_reported(make_package: PackageFactory) -> None:
    pkg = make_package("1.2")
    table = pl.read_csv(pkg / "classes.csv", infer_schema=False)
    table.drop("location").write_csv(pkg / "classes.csv")
    result = extract(pkg)
    assert result.roster["classes"]["location"].null_count() == result.roster["classes"].height
    assert "classes.csv row 1, column location: optional column missing (read as empty)" in (
        _notices(result)
    )


def test_the_third_party_1p1_sample_imports_with_its_deviations_reported() -> None:
    result = extract(REFERENCE / "moodle-v1p1-minimal-bulk.zip")
    users = result.roster["users"]
    assert users.height > 0
    assert users["enabledUser"].all()  # written TRUE
    assert "Scheduled" not in set(result.roster["classes"]["classType"])  # as written
    notices = _notices(result)
    assert "users.csv, column enabledUser: booleans not in lowercase (read case-insensitively)" in (
        notices
    )
    assert any("classType: values in another letter case" in n for n in notices)
    assert "users.csv, column password: passwords are never imported (column ignored)" in notices


def test_the_third_party_1p2_delta_sample_imports() -> None:
    result = extract(REFERENCE / "moodle-v1p2-delta.zip")
    user = result.roster["users"].row(0, named=True)
    assert (user["sourcedId"], user["role"], user["givenName"]) == ("USER_0", "student", "Bruce")
    assert user["orgSourcedIds"] == ["ORG_1"]
    assert str(user["birthDate"]) == "2010-04-17"  # from demographics.csv
    assert "userProfiles.csv: not imported: rostersync imports the rostering files only" in (
        _notices(result)
    )


def test_the_third_party_full_sample_is_refused_naming_each_place() -> None:
    error = failure(REFERENCE / "moodle-v1p1-full-bulk.zip")
    assert "orgs.csv row 2, column parentSourcedId: 'org-sch-222-3456' is not in orgs.csv" in (
        error.message
    )
    assert "academicSessions.csv, column parentSourcedId:" in error.message
