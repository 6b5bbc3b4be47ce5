"""A package's files read and checked as a whole: the manifest held to its word, the circuit
breaker's cases, duplicate sourcedIds and dangling references.

Circuit breaker (the extract fails, nothing is deleted): a file the manifest lists that the
package lacks, a file the manifest calls ``absent`` that the package holds, a ``bulk`` file with
a header and no rows, a file cut short. Those are a sender's fault that would otherwise read as
mass deletions, so they are health problems, not data problems.
"""

from __future__ import annotations

import polars as pl

from rostersync.connectors.health import HealthLedger, HealthProblem
from rostersync.connectors.oneroster_csv._files import FILES, Column
from rostersync.connectors.oneroster_csv._package import MANIFEST, Package
from rostersync.connectors.oneroster_csv._read import (
    ROW,
    ROWS_SHOWN,
    FileTable,
    check_header,
    read_text,
    report_rows,
    typed,
)
from rostersync.connectors.oneroster_csv._report import ImportReport
from rostersync.connectors.oneroster_csv.config import CsvOptions
from rostersync.oneroster import FILE_SETS

#: Entity a file's health problems are filed under (roles are part of the users).
_ENTITY = {"roles": "users"}
#: (file, column) → the file its IDs point into; list columns hold several IDs.
REFERENCES: dict[str, list[tuple[str, str]]] = {
    "orgs": [("parentSourcedId", "orgs")],
    "academicSessions": [("parentSourcedId", "academicSessions")],
    "courses": [("orgSourcedId", "orgs"), ("schoolYearSourcedId", "academicSessions")],
    "classes": [
        ("courseSourcedId", "courses"),
        ("schoolSourcedId", "orgs"),
        ("termSourcedIds", "academicSessions"),
    ],
    "enrollments": [
        ("classSourcedId", "classes"),
        ("schoolSourcedId", "orgs"),
        ("userSourcedId", "users"),
    ],
    "users": [
        ("orgSourcedIds", "orgs"),
        ("agentSourcedIds", "users"),
        ("primaryOrgSourcedId", "orgs"),
    ],
    "roles": [("userSourcedId", "users"), ("orgSourcedId", "orgs")],
    "demographics": [("sourcedId", "users")],
}


def _scope(name: str) -> str:
    return f"file:{name}.csv"


def _health(ledger: HealthLedger, name: str, received: int, message: str) -> None:
    ledger.problem(HealthProblem(_ENTITY.get(name, name), _scope(name), None, received, message))


def read_package(
    package: Package, options: CsvOptions, report: ImportReport, ledger: HealthLedger
) -> dict[str, FileTable]:
    """Every rostering file of the package read and typed; everything else reported."""
    version = package.version
    specs = FILES[version]
    tables: dict[str, FileTable] = {}
    listed_any = bool(package.modes)
    for name in FILE_SETS[version]:
        file = f"{name}.csv"
        mode = package.modes.get(name)
        present = file in package.data
        if mode in ("bulk", "delta") and not present:
            _health(ledger, name, 0, f"manifest.csv lists it as {mode}, the package lacks it")
            continue
        if mode == "absent" and present:
            _health(ledger, name, 0, "manifest.csv calls it absent, yet the package holds it")
            continue
        if mode is None and present:
            report.error(MANIFEST, f"no file.{name} row (bulk or delta) for {file}")
            continue
        if not present:
            if mode is None and listed_any:
                report.notice(MANIFEST, f"file.{name} not listed (read as absent)")
            if name in specs:
                report.notice(file, "absent: nothing imported from it")
            continue
        if name not in specs:
            report.notice(file, "not imported: rostersync imports the rostering files only")
            continue
        assert mode is not None
        table = _read_one(package.data[file], file, specs[name], mode, options, report, ledger)
        if table is not None:
            tables[name] = table
            report.files[file] = table.frame.height
    known = {f"{n}.csv" for n in FILE_SETS[version]} | {MANIFEST}
    for file in sorted(set(package.data) - known):
        report.notice(file, "not part of a OneRoster package (ignored)")
    check_references(tables, report)
    return tables


def _read_one(
    raw: bytes,
    file: str,
    columns: tuple[Column, ...],
    mode: str,
    options: CsvOptions,
    report: ImportReport,
    ledger: HealthLedger,
) -> FileTable | None:
    name = file.removesuffix(".csv")
    frame, truncated = read_text(raw, file, report)
    if truncated:
        _health(ledger, name, 0, "the file is cut short (its last row is unfinished)")
        return None
    if frame is None:
        return None
    if mode == "bulk" and frame.height == 0:
        _health(
            ledger,
            name,
            0,
            "a bulk file with a header and no rows (a file with nothing to send is absent)",
        )
        return None
    extras = check_header(frame, file, columns, report)
    if extras is None:
        return None
    typed_frame = typed(frame, file, mode, columns, options.max_field_kb * 1024, report)
    _duplicates(typed_frame, file, report)
    return FileTable(name, mode, typed_frame, extras)


def _duplicates(frame: pl.DataFrame, file: str, report: ImportReport) -> None:
    ids = frame["sourcedId"]
    if ids.n_unique() == ids.len():
        return
    dupes = frame.filter(pl.col("sourcedId").is_not_null() & pl.col("sourcedId").is_duplicated())
    if not dupes.height:
        return
    first = dupes.group_by("sourcedId", maintain_order=True).agg(pl.col(ROW)).head(ROWS_SHOWN)
    for sid, rows in first.iter_rows():
        report.error(
            file,
            f"sourcedId {sid!r} appears more than once (rows {', '.join(map(str, rows))})",
            None,
            "sourcedId",
        )
    groups = dupes["sourcedId"].n_unique()
    if groups > ROWS_SHOWN:
        report.error(
            file, f"and {groups - ROWS_SHOWN} more duplicated sourcedIds", None, "sourcedId"
        )


def check_references(tables: dict[str, FileTable], report: ImportReport) -> None:
    """IDs pointing at records a bulk file of the package does not hold (a delta file's IDs may
    point at records sent before, so only bulk targets are checked)."""
    for name, refs in REFERENCES.items():
        table = tables.get(name)
        if table is None:
            continue
        for column, target_name in refs:
            target = tables.get(target_name)
            if column not in table.frame.columns:
                continue
            if target is None or target.mode != "bulk":
                continue
            ids = target.frame.select(pl.col("sourcedId").alias("__id"))
            values = table.frame.select(ROW, pl.col(column).alias("__id"))
            if isinstance(values.schema["__id"], pl.List):
                values = values.explode("__id")
            dangling = values.drop_nulls("__id").join(ids, on="__id", how="anti")
            if not dangling.height:
                continue
            rows = dangling[ROW].head(ROWS_SHOWN).to_list()
            sample = dangling["__id"][0]
            report_rows(
                report,
                f"{name}.csv",
                column,
                rows,
                dangling.height,
                f"{sample!r} is not in {target_name}.csv (a dangling reference)",
            )
