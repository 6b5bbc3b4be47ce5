"""Broken packages of every kind: a clear error naming the place, never a traceback, never a
partial import. The circuit breaker's cases fail as health verdicts (nothing is deleted)."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from csv_helpers import PackageFactory, connector, edit, failure, lines, set_manifest

from rostersync.errors import SourceDataError, SourceHealthError, SourceUnreachable

Breakage = Callable[[Path], None]


def _replace(file: str, old: str, new: str, count: int = 1) -> Breakage:
    def apply(pkg: Path) -> None:
        text = (pkg / file).read_text(encoding="utf-8")
        assert old in text, (file, old)
        edit(pkg, file, text.replace(old, new, count))

    return apply


def _row(file: str, number: int, change: Callable[[list[str]], list[str]]) -> Breakage:
    """Change the cells of row ``number`` (1 = the header) of ``file`` (no quoted commas)."""

    def apply(pkg: Path) -> None:
        rows = lines(pkg, file)
        rows[number - 1] = ",".join(change(rows[number - 1].split(",")))
        edit(pkg, file, "\r\n".join(rows) + "\r\n")

    return apply


def _cell(file: str, number: int, column: str, value: str) -> Breakage:
    def apply(pkg: Path) -> None:
        header = lines(pkg, file)[0].split(",")
        index = header.index(column)
        _row(file, number, lambda cells: [*cells[:index], value, *cells[index + 1 :]])(pkg)

    return apply


def _latin1(pkg: Path) -> None:
    rows = lines(pkg, "orgs.csv")
    rows[2] = rows[2].replace(rows[2].split(",")[3], "École Sainte-Thérèse")
    (pkg / "orgs.csv").write_bytes(("\r\n".join(rows) + "\r\n").encode("latin-1"))


def _huge_field(pkg: Path) -> None:
    _cell("users.csv", 2, "givenName", "x" * (10 * 1024 * 1024))(pkg)


def _duplicate(pkg: Path) -> None:
    rows = lines(pkg, "courses.csv")
    edit(pkg, "courses.csv", "\r\n".join([*rows, rows[1]]) + "\r\n")


def _headers_only(pkg: Path) -> None:
    edit(pkg, "enrollments.csv", lines(pkg, "enrollments.csv")[0] + "\r\n")


def _truncated(pkg: Path) -> None:
    raw = (pkg / "enrollments.csv").read_bytes()
    (pkg / "enrollments.csv").write_bytes(raw[: len(raw) - 40])


def _listed_but_missing(pkg: Path) -> None:
    (pkg / "classes.csv").unlink()


def _absent_but_present(pkg: Path) -> None:
    set_manifest(pkg, "file.courses", "absent")


def _no_manifest(pkg: Path) -> None:
    (pkg / "manifest.csv").unlink()


def _drop_column(file: str, column: str) -> Breakage:
    def apply(pkg: Path) -> None:
        index = lines(pkg, file)[0].split(",").index(column)
        rows = [r.split(",") for r in lines(pkg, file)]
        edit(pkg, file, "\r\n".join(",".join(r[:index] + r[index + 1 :]) for r in rows) + "\r\n")

    return apply


def _unterminated_quote(pkg: Path) -> None:
    rows = lines(pkg, "orgs.csv")
    rows[1] = rows[1] + ',"'
    rows[1] = rows[1][: -len(',"')].replace(",", ',"', 1)
    edit(pkg, "orgs.csv", "\r\n".join(rows) + "\r\n")


CASES: dict[str, tuple[Breakage, type[Exception], tuple[str, ...]]] = {
    "latin-1 file": (_latin1, SourceDataError, ("orgs.csv row 3: not UTF-8",)),
    "duplicate sourcedIds": (
        _duplicate,
        SourceDataError,
        ("courses.csv, column sourcedId: sourcedId", "appears more than once (rows 2,"),
    ),
    "dangling reference": (
        _cell("enrollments.csv", 3, "userSourcedId", "nobody"),
        SourceDataError,
        ("enrollments.csv row 3, column userSourcedId: 'nobody' is not in users.csv",),
    ),
    "10 MB field": (
        _huge_field,
        SourceDataError,
        ("users.csv row 2, column givenName: a cell larger than 64 KiB",),
    ),
    "bad date": (
        _cell("academicSessions.csv", 2, "startDate", "2024-13-45"),
        SourceDataError,
        ("academicSessions.csv row 2, column startDate: '2024-13-45' is not a date",),
    ),
    "bad enum": (
        _cell("orgs.csv", 2, "type", "campus"),
        SourceDataError,
        ("orgs.csv row 2, column type: 'campus' is not one of department, school",),
    ),
    "bad boolean": (
        _cell("users.csv", 3, "enabledUser", "yes"),
        SourceDataError,
        ("users.csv row 3, column enabledUser: 'yes' is not true or false",),
    ),
    "empty required value": (
        _cell("users.csv", 4, "username", ""),
        SourceDataError,
        ("users.csv row 4, column username: required value is empty",),
    ),
    "missing required column": (
        _drop_column("users.csv", "givenName"),
        SourceDataError,
        ("users.csv row 1, column givenName: required column missing from the header",),
    ),
    "a row with too many cells": (
        _row("courses.csv", 3, lambda cells: [*cells, "extra"]),
        SourceDataError,
        ("courses.csv row 3: more than the header's 10 cells",),
    ),
    "a row with too few cells": (
        _row("courses.csv", 2, lambda cells: cells[:4]),
        SourceDataError,
        ("courses.csv row 2: fewer than the header's 10 cells",),
    ),
    "an unterminated quote": (
        _unterminated_quote,
        SourceDataError,
        ("orgs.csv: a quoted cell is never closed",),
    ),
    "no manifest": (_no_manifest, SourceDataError, ("manifest.csv: missing",)),
    "unknown version": (
        _replace("manifest.csv", "oneroster.version,1.2", "oneroster.version,2.0"),
        SourceDataError,
        ("manifest.csv row 3, column value: oneroster.version '2.0' is not supported",),
    ),
    "unknown file mode": (
        _replace("manifest.csv", "file.orgs,bulk", "file.orgs,full"),
        SourceDataError,
        ("column value: file.orgs: 'full' is not bulk, delta or absent",),
    ),
    "delta row without status": (
        _replace("manifest.csv", "file.orgs,bulk", "file.orgs,delta"),
        SourceDataError,
        ("orgs.csv, column status: required value is empty in rows 2,",),
    ),
    "headers-only bulk file": (
        _headers_only,
        SourceHealthError,
        ("enrollments (file:enrollments.csv): a bulk file with a header and no rows",),
    ),
    "truncated file": (
        _truncated,
        SourceHealthError,
        ("enrollments (file:enrollments.csv): the file is cut short",),
    ),
    "manifest lists a file the package lacks": (
        _listed_but_missing,
        SourceHealthError,
        ("classes (file:classes.csv): manifest.csv lists it as bulk, the package lacks it",),
    ),
    "manifest calls a held file absent": (
        _absent_but_present,
        SourceHealthError,
        ("courses (file:courses.csv): manifest.csv calls it absent, yet the package holds it",),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_broken_package_gives_a_clear_error(make_package: PackageFactory, case: str) -> None:
    breakage, kind, expected = CASES[case]
    pkg = make_package("1.2")
    breakage(pkg)
    error = failure(pkg)
    assert isinstance(error, kind), repr(error)
    for text in expected:
        assert text in error.message, error.message
    assert error.hint


def _zip(path: Path, members: dict[str, bytes], level: int = 9) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _members(pkg: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in pkg.iterdir()}


def test_zip_slip_is_refused(make_package: PackageFactory, tmp_path: Path) -> None:
    members = _members(make_package("1.2"))
    members["../../etc/evil.csv"] = b"sourcedId\r\nx\r\n"
    error = failure(_zip(tmp_path / "slip.zip", members))
    assert "member names leave the package folder (zip slip): ../../etc/evil.csv" in error.message
    assert not (tmp_path.parent.parent / "etc" / "evil.csv").exists()


def test_a_zip_bomb_is_refused_unread(make_package: PackageFactory, tmp_path: Path) -> None:
    members = _members(make_package("1.2"))
    members["padding.csv"] = b"\0" * (50 * 1024 * 1024)
    error = failure(_zip(tmp_path / "bomb.zip", members))
    assert "compression ratio" in error.message
    assert "connector.max_compression_ratio" in error.message


def test_a_package_over_the_size_limit_is_refused(
    make_package: PackageFactory, tmp_path: Path
) -> None:
    members = _members(make_package("1.2"))
    members["users.csv"] += b"".join(
        f"u{i},,,true,user{i},,Given,Family,,,,,,,,,,,,,,\r\n".encode() for i in range(40_000)
    )
    error = failure(_zip(tmp_path / "big.zip", members, level=1), max_package_mb=1)
    assert "(limit connector.max_package_mb = 1)" in error.message


def test_a_truncated_zip_is_refused(make_package: PackageFactory, tmp_path: Path) -> None:
    whole = make_package("1.2", zip=True).read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole[: len(whole) // 2])
    error = failure(cut)
    assert isinstance(error, SourceDataError)
    assert "cut.zip is not a readable zip file" in error.message


def _encrypt_flag(path: Path) -> Path:
    """Mark every member of the zip at ``path`` as stored encrypted (as ``zip -e`` does)."""
    raw = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.find(signature)
        while at != -1:
            raw[at + flag_at] |= 0x1
            at = raw.find(signature, at + 4)
    path.write_bytes(bytes(raw))
    return path


def test_a_password_protected_zip_is_refused(make_package: PackageFactory, tmp_path: Path) -> None:
    members = _members(make_package("1.2"))
    error = failure(_encrypt_flag(_zip(tmp_path / "locked.zip", members)))
    assert error.message.startswith(
        f"locked.zip: refused, {len(members)} password-protected members: "
    )
    assert "without a zip password" in (error.hint or "")


def test_a_zip_of_several_folders_is_refused(make_package: PackageFactory, tmp_path: Path) -> None:
    members = {f"a/{k}": v for k, v in _members(make_package("1.2")).items()}
    members["b/orgs.csv"] = b"x"
    error = failure(_zip(tmp_path / "folders.zip", members))
    assert "files in several folders (a/, b/)" in error.message


def test_a_package_in_one_folder_of_the_zip_is_read_and_reported(
    make_package: PackageFactory, tmp_path: Path
) -> None:
    from csv_helpers import extract

    members = {f"export/{k}": v for k, v in _members(make_package("1.2")).items()}
    result = extract(_zip(tmp_path / "nested.zip", members))
    assert result.roster["users"].height > 0
    assert (
        "nested.zip: the files sit in the folder export/, not at the zip's root"
        in (result.stats["notices"])
    )


def test_a_missing_package_is_unreachable(tmp_path: Path) -> None:
    error = failure(tmp_path / "nowhere.zip")
    assert isinstance(error, SourceUnreachable)
    assert "nowhere.zip does not exist" in error.message


def test_a_file_that_is_no_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    path.write_bytes(io.BytesIO(b"sourcedId,name\r\n").getvalue())
    assert "export.zip is not a readable zip file" in failure(path).message


def test_a_schools_mapping_naming_an_unknown_school_is_refused(
    make_package: PackageFactory,
) -> None:
    conn = connector(make_package("1.2"))
    school = asyncio.run(conn.list_schools())[0]
    assert asyncio.run(conn.extract([school.source_id])).roster["orgs"].height
    with pytest.raises(SourceDataError) as caught:
        asyncio.run(conn.extract([school.source_id, "no-such-school"]))
    assert caught.value.message == (
        "schools_mapping names schools the package does not have: no-such-school"
    )
    assert "Test connection" in (caught.value.hint or "")
