"""Opening a OneRoster CSV package — a ``.zip`` or a folder — safely, and reading its manifest.

A package is untrusted input. Zip members are read in memory, never extracted, and checked
before a byte is inflated: a member whose name climbs out of the package (``../``, an absolute
path, a drive letter — "zip slip") is refused, and so is a zip bomb (more members, more
uncompressed bytes or a higher compression ratio than the options allow; the sizes a member
declares are not trusted either: reading stops one byte past the limit).
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from rostersync.connectors.oneroster_csv._files import VERSIONS
from rostersync.connectors.oneroster_csv._report import ImportReport
from rostersync.connectors.oneroster_csv.config import CsvOptions
from rostersync.errors import SourceDataError, SourceUnreachable
from rostersync.oneroster import FILE_SETS

Mode = Literal["bulk", "delta", "absent"]
MODES: tuple[Mode, ...] = ("bulk", "delta", "absent")
MANIFEST = "manifest.csv"
_CHUNK = 1 << 20
#: The general-purpose flag bit of a zip member stored encrypted.
_ENCRYPTED = 0x1


class UnsafePackage(SourceDataError):
    """A zip that would write outside its folder or inflate past the limits: refused unread."""


@dataclass
class Package:
    """The CSV files of a package by name (``users.csv`` → bytes) and what its manifest says."""

    name: str
    data: dict[str, bytes]
    version: str = "1.2"
    modes: dict[str, Mode] = field(default_factory=dict)
    system: dict[str, str] = field(default_factory=dict)


def _unsafe_name(name: str) -> bool:
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return True
    return ".." in PurePosixPath(name.replace("\\", "/")).parts


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, where: str) -> bytes:
    """A member's bytes, refusing to inflate more than ``budget`` whatever it declares."""
    out = io.BytesIO()
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                out.write(chunk)
                if out.tell() > budget:
                    raise UnsafePackage(
                        f"{where}: {info.filename} inflates past the package size limit "
                        "(a zip bomb?)",
                        hint="raise connector.max_package_mb if the package is genuinely "
                        "this large",
                    )
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise SourceDataError(
            f"{where}: {info.filename} is damaged or truncated ({exc})",
            hint="send the package again; the file did not arrive whole",
        ) from exc
    except NotImplementedError as exc:  # a compression method zipfile lacks (Deflate64, …)
        raise SourceDataError(
            f"{where}: {info.filename} is compressed with a method that cannot be read ({exc})",
            hint="zip the package again with ordinary (Deflate) compression",
        ) from exc
    return out.getvalue()


def _open_zip(path: Path, options: CsvOptions, report: ImportReport) -> dict[str, bytes]:
    where = path.name
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise SourceDataError(
            f"{where} is not a readable zip file ({exc}): truncated or damaged",
            hint="send the package again, or give the folder it was made from",
        ) from exc
    limit = options.max_package_mb * 1024 * 1024
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        unsafe = [i.filename for i in zf.infolist() if _unsafe_name(i.filename)]
        if unsafe:
            raise UnsafePackage(
                f"{where}: refused, member names leave the package folder (zip slip): "
                + ", ".join(unsafe[:5]),
                hint="a OneRoster package holds its CSV files at the root of the zip",
            )
        locked = [i.filename for i in infos if i.flag_bits & _ENCRYPTED]
        if locked:
            raise SourceDataError(
                f"{where}: refused, {len(locked)} password-protected members: "
                + ", ".join(locked[:5]),
                hint="send the package without a zip password (protect it in transit instead)",
            )
        if len(infos) > options.max_files:
            raise UnsafePackage(
                f"{where}: refused, {len(infos)} members (at most {options.max_files} allowed)",
                hint="a OneRoster package holds at most a few dozen CSV files",
            )
        declared = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos)
        if declared > limit:
            raise UnsafePackage(
                f"{where}: refused, it inflates to {declared // (1024 * 1024)} MB "
                f"(limit connector.max_package_mb = {options.max_package_mb})",
                hint="raise connector.max_package_mb if the package is genuinely this large",
            )
        if packed and declared / packed > options.max_compression_ratio:
            raise UnsafePackage(
                f"{where}: refused, compression ratio {declared / packed:.0f}:1 exceeds "
                f"connector.max_compression_ratio ({options.max_compression_ratio}) "
                "(a zip bomb?)",
                hint="CSV text compresses far less than this; check where the package came from",
            )
        folders = {PurePosixPath(i.filename).parent for i in infos}
        top = next(iter(folders)) if len(folders) == 1 else None
        if top is not None and str(top) != ".":
            report.notice(where, f"the files sit in the folder {top}/, not at the zip's root")
        elif len(folders) > 1:
            raise SourceDataError(
                f"{where}: files in several folders ("
                + ", ".join(sorted(f"{f}/" for f in map(str, folders)))
                + "); a OneRoster package holds its CSV files at the root of the zip",
                hint="zip the CSV files themselves, not the folders around them",
            )
        data: dict[str, bytes] = {}
        budget = limit
        for info in infos:
            name = PurePosixPath(info.filename).name
            content = _read_member(zf, info, budget, where)
            budget -= len(content)
            data[name] = content
        return data


def _open_folder(path: Path, options: CsvOptions) -> dict[str, bytes]:
    files = sorted(p for p in path.iterdir() if p.is_file())
    limit = options.max_package_mb * 1024 * 1024
    total = sum(p.stat().st_size for p in files)
    if total > limit:
        raise UnsafePackage(
            f"{path.name}: {total // (1024 * 1024)} MB of files exceeds "
            f"connector.max_package_mb ({options.max_package_mb})",
            hint="raise connector.max_package_mb if the package is genuinely this large",
        )
    return {p.name: p.read_bytes() for p in files}


def open_package(path: Path, options: CsvOptions, report: ImportReport) -> Package:
    """The package at ``path`` (a zip file or a folder), its manifest read and checked."""
    try:
        if path.is_dir():
            data = _open_folder(path, options)
        elif path.is_file():
            data = _open_zip(path, options, report)
        else:
            raise SourceUnreachable(
                f"The OneRoster CSV package {path} does not exist",
                hint="check connector.path (a .zip file or a folder holding manifest.csv)",
            )
    except PermissionError as exc:
        raise SourceUnreachable(
            f"The OneRoster CSV package {path} cannot be read: permission denied",
            hint="let the user running rostersync read it",
        ) from exc
    except OSError as exc:
        raise SourceUnreachable(
            f"The OneRoster CSV package {path} cannot be read: {exc.strerror or exc}"
        ) from exc
    package = Package(path.name, data)
    read_manifest(package, report)
    return package


def _manifest_rows(raw: bytes, report: ImportReport) -> Iterator[tuple[int, str, str]]:
    text = raw.decode("utf-8-sig", errors="replace")
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if number == 1:
            if [c.strip() for c in row] != ["propertyName", "value"]:
                report.error(MANIFEST, "the header must be propertyName,value", 1)
            continue
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != 2:
            report.error(
                MANIFEST, f"expected 2 cells (propertyName,value), found {len(row)}", number
            )
            continue
        yield number, row[0].strip(), row[1].strip()


def read_manifest(package: Package, report: ImportReport) -> None:
    """The manifest's version and file modes; every problem is reported with its row."""
    raw = package.data.get(MANIFEST)
    if raw is None:
        report.error(MANIFEST, "missing: every OneRoster package carries a manifest.csv")
        return
    props: dict[str, tuple[int, str]] = {}
    for number, key, value in _manifest_rows(raw, report):
        props[key] = (number, value)
    version = props.get("oneroster.version")
    if version is None:
        report.error(MANIFEST, "no oneroster.version row (1.1 or 1.2)")
    elif version[1] not in VERSIONS:
        report.error(
            MANIFEST,
            f"oneroster.version {version[1]!r} is not supported (1.1 or 1.2)",
            version[0],
            "value",
        )
    else:
        package.version = version[1]
    report.version = package.version
    known = set(FILE_SETS[package.version])
    for key, (number, value) in props.items():
        if key.startswith("source."):
            package.system[key] = value
        elif key.startswith("file."):
            name = key.removeprefix("file.")
            if value not in MODES:
                report.error(
                    MANIFEST, f"{key}: {value!r} is not bulk, delta or absent", number, "value"
                )
            elif name not in known:
                report.error(
                    MANIFEST,
                    f"{key}: OneRoster {package.version} has no file {name}.csv",
                    number,
                    "propertyName",
                )
            else:
                package.modes[name] = value
        elif key not in ("manifest.version", "oneroster.version"):
            report.notice(MANIFEST, f"unknown property {key!r} ignored", number)
