"""The OneRoster CSV source connector: a package (zip or folder) or a drop folder of packages.

Bulk and delta packages of OneRoster 1.1 and 1.2. A package is read whole, checked (see
:mod:`._load`), and mapped onto the canonical tables (see :mod:`.mapping`); the files are parsed
by Polars in a worker thread so a run's event loop stays free. Delta rows carry their own
``status``; a record a package does not mention is left as it was — deletions by absence come
only from ``bulk_upload`` mode, so this connector declares no complete snapshot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import httpx
import polars as pl

from rostersync.connectors.base import (
    Capabilities,
    ConnectionReport,
    Connector,
    Extraction,
    ProgressCallback,
    ProgressEvent,
    SchoolInfo,
)
from rostersync.connectors.health import HealthLedger
from rostersync.connectors.oneroster_csv._load import read_package
from rostersync.connectors.oneroster_csv._package import MANIFEST, open_package
from rostersync.connectors.oneroster_csv._report import (
    ImportReport,
    PackageError,
    PackageHealthError,
)
from rostersync.connectors.oneroster_csv.config import CsvOptions, parse_options
from rostersync.connectors.oneroster_csv.drop import FAILED, PROCESSED, DropFolder
from rostersync.connectors.oneroster_csv.mapping import build_roster
from rostersync.connectors.scope import check_scope
from rostersync.errors import SourceError
from rostersync.model import Roster

if TYPE_CHECKING:
    from rostersync.config import SourceConfig


@dataclass
class ReadPackage:
    """A package read: its canonical roster and the report of what was found."""

    path: Path
    roster: Roster
    report: ImportReport
    seconds: float


class OneRosterCsvConnector:
    """Imports OneRoster CSV packages (1.1 and 1.2, bulk and delta)."""

    app: ClassVar[str] = "oneroster_csv"
    #: A delta package sends only what changed; a bulk one deletes by absence only in the
    #: source's ``bulk_upload`` mode.
    capabilities: ClassVar[Capabilities] = Capabilities(complete_snapshot=False)
    complete_snapshot: ClassVar[bool] = False
    options_model: ClassVar[type[CsvOptions]] = CsvOptions
    #: It reads files: a source configured with a ``delivery`` is refused at validation.
    uses_delivery: ClassVar[bool] = False

    def __init__(self, options: CsvOptions, *, source: str = "csv", bulk_upload: bool = False):
        self.options = options
        self.source = source
        #: The source's ``advanced.bulk_upload``: absence deletes, so delta packages are refused.
        self.bulk_upload = bulk_upload

    def __repr__(self) -> str:
        where = self.options.path or self.options.drop_folder
        return f"OneRosterCsvConnector(source={self.source!r}, at={where!r})"

    @classmethod
    def from_source(
        cls,
        source: SourceConfig,
        client_secret: str,
        *,
        client: httpx.AsyncClient | None = None,
    ) -> tuple[Self, httpx.AsyncClient]:
        """A connector for a configured source; it reads files, so the client goes unused (it
        is returned for the caller to close, as the contract says)."""
        options = parse_options(source.connector, f"sources.{source.name}.connector")
        connector = cls(options, source=source.name, bulk_upload=source.advanced.bulk_upload)
        return connector, client or httpx.AsyncClient()

    @property
    def drop_folder(self) -> DropFolder | None:
        folder = self.options.drop_folder
        return DropFolder(Path(folder).expanduser()) if folder else None

    # ------------------------------------------------------------------ reading

    def read(self, path: Path) -> ReadPackage:
        """Read and check one package; raises when it cannot be imported (the error carries
        the report)."""
        started = time.perf_counter()
        report = ImportReport(path.name)
        ledger = HealthLedger()
        package = open_package(path, self.options, report)
        deltas = sorted(n for n, mode in package.modes.items() if mode == "delta")
        if self.bulk_upload and deltas:
            report.error(
                MANIFEST,
                f"delta files ({', '.join(deltas)}) for a source in bulk_upload mode, where "
                "every record a package lacks is deleted; send bulk packages, or turn "
                "advanced.bulk_upload off for delta packages",
            )
        if report.problems:
            raise PackageError(report, source=self.source)
        tables = read_package(package, self.options, report, ledger)
        health = ledger.verdict()
        if not health.ok:
            raise PackageHealthError(health, report, source=self.source)
        if report.problems:
            raise PackageError(report, source=self.source)
        roster = build_roster(tables, package.version, self.source, report)
        if report.problems:
            raise PackageError(report, source=self.source)
        return ReadPackage(path, roster, report, time.perf_counter() - started)

    def _package_path(self) -> Path:
        drop = self.drop_folder
        if drop is not None:
            return drop.next_package()
        assert self.options.path is not None
        return Path(self.options.path).expanduser()

    # ------------------------------------------------------------------ the contract

    async def test_connection(self) -> ConnectionReport:
        """Read the package (the next one of a drop folder) and say what it holds or what is
        wrong with it."""
        drop = self.drop_folder
        try:
            if drop is not None:
                drop.check()
                waiting = drop.pending()
                if not waiting:
                    return ConnectionReport(
                        True,
                        f"The drop folder {drop.path} is ready; no package waits in it",
                        details={"pending": 0},
                    )
            read = await asyncio.to_thread(self.read, self._package_path())
        except SourceError as exc:
            return ConnectionReport(False, exc.message, hint=exc.hint)
        orgs = read.roster["orgs"]
        districts = orgs.filter(pl.col("type") == "district")["name"].to_list()
        schools = orgs.filter(pl.col("type") == "school").height
        details: dict[str, Any] = {"report": read.report.to_dict()}
        if drop is not None:
            details["pending"] = len(drop.pending())
        return ConnectionReport(
            True,
            f"Read {read.path.name} (OneRoster {read.report.version}): {schools} schools, "
            f"{read.roster['users'].height} users, {read.roster['enrollments'].height} "
            f"enrollments; {len(read.report.notices)} notices",
            district_name=districts[0] if districts else None,
            school_count=schools,
            details=details,
        )

    async def list_schools(self) -> list[SchoolInfo]:
        """The schools of the package (the next one of a drop folder)."""
        read = await asyncio.to_thread(self.read, self._package_path())
        schools = read.roster["orgs"].filter(pl.col("type") == "school")
        return [
            SchoolInfo(r["sourcedId"], r["name"] or "", r["identifier"])
            for r in schools.iter_rows(named=True)
        ]

    async def extract(
        self,
        schools: Sequence[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> Extraction:
        """The package's canonical tables. In a drop folder the package is then filed under
        ``processed/`` (read) or ``failed/`` (refused), with its report."""
        path = self._package_path()
        drop = self.drop_folder
        try:
            read = await asyncio.to_thread(self.read, path)
            check_scope(
                read.roster["orgs"],
                schools,
                source=self.source,
                holder="the package",
                hint="list the package's schools with Test connection, or use auto mapping",
            )
        except SourceError as exc:
            if drop is not None:
                report = getattr(exc, "report", None)
                body = report.to_dict() if isinstance(report, ImportReport) else {}
                body["error"] = exc.message
                await asyncio.to_thread(drop.file, path, FAILED, body)
            raise
        stats: dict[str, Any] = {
            "package": path.name,
            "oneroster_version": read.report.version,
            "files": dict(read.report.files),
            "notices": [n.line() for n in read.report.notices],
            "extract_seconds": round(read.seconds, 3),
        }
        if drop is not None:
            filed = await asyncio.to_thread(drop.file, path, PROCESSED, read.report.to_dict())
            stats["filed_as"] = str(filed)
        if progress is not None:
            for name, table in read.roster.items():
                progress(ProgressEvent(name, table.height, 1, 1, finished=True))
        return Extraction(read.roster, stats)


if TYPE_CHECKING:
    _contract: type[Connector] = OneRosterCsvConnector
