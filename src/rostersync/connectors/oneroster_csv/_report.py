"""Import report of a OneRoster CSV package: every error and every leniency, each with its place.

Strict where the binding is clear, lenient where real-world packages commonly deviate: the
leniencies (a BOM, CRLF, columns out of order, unknown extra columns kept as metadata…) are
*notices* in the report, never silent; anything else is a *problem* naming the file, the row
(1 = the header row, as a spreadsheet shows it) and the column, and fails the extraction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rostersync.connectors.health import PartialExtractError, SourceHealth
from rostersync.errors import SourceDataError

#: Problems shown in an error message; the report keeps them all.
SHOWN = 10


@dataclass(frozen=True)
class CsvProblem:
    """One finding in a package: where it is and what is wrong (or what was tolerated)."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None

    def place(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return where

    def line(self) -> str:
        """The finding as one line: ``users.csv row 12, column birthDate: …``."""
        return f"{self.place()}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportReport:
    """What reading a package found: problems (errors) and notices (tolerated deviations)."""

    package: str
    problems: list[CsvProblem] = field(default_factory=list)
    notices: list[CsvProblem] = field(default_factory=list)
    files: dict[str, int] = field(default_factory=dict)
    version: str | None = None

    def error(
        self, file: str, message: str, row: int | None = None, column: str | None = None
    ) -> None:
        self.problems.append(CsvProblem(file, message, row, column))

    def notice(
        self, file: str, message: str, row: int | None = None, column: str | None = None
    ) -> None:
        self.notices.append(CsvProblem(file, message, row, column))

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "version": self.version,
            "files": dict(self.files),
            "problems": [p.to_dict() for p in self.problems],
            "notices": [n.to_dict() for n in self.notices],
        }


class PackageError(SourceDataError):
    """The package breaks the CSV binding where rostersync cannot guess: nothing is imported."""

    def __init__(self, report: ImportReport, *, source: str | None = None) -> None:
        lines = [p.line() for p in report.problems]
        shown = "; ".join(lines[:SHOWN])
        if len(lines) > SHOWN:
            shown += f"; and {len(lines) - SHOWN} more"
        super().__init__(
            f"The OneRoster CSV package {report.package} cannot be imported "
            f"({len(lines)} problem{'s' if len(lines) != 1 else ''}): {shown}",
            source=source,
            hint="nothing was imported; correct the named files and rows and send the package "
            "again",
        )
        self.report = report


class PackageHealthError(PartialExtractError):
    """The package is not whole (the circuit breaker): the extract fails, nothing is deleted."""

    def __init__(self, health: SourceHealth, report: ImportReport, *, source: str | None = None):
        super().__init__(health, source=source)
        self.message = f"{report.package}: {self.message}"
        self.args = (self.message,)
        self.hint = "nothing was imported or deleted; send the whole package again"
        self.report = report
