"""OneRoster CSV source: 1.1 and 1.2 packages, bulk and delta, a zip, a folder or a drop folder.

Public API: :class:`OneRosterCsvConnector` (registered in the ``rostersync.connectors``
entry-point group as ``oneroster_csv``), its options :class:`CsvOptions`, the
:class:`DropFolder`, and the report types of an import.
"""

from __future__ import annotations

from rostersync.connectors.oneroster_csv._report import CsvProblem, ImportReport, PackageError
from rostersync.connectors.oneroster_csv.config import CsvOptions, parse_options
from rostersync.connectors.oneroster_csv.connector import OneRosterCsvConnector
from rostersync.connectors.oneroster_csv.drop import DropFolder

__all__ = [
    "CsvOptions",
    "CsvProblem",
    "DropFolder",
    "ImportReport",
    "OneRosterCsvConnector",
    "PackageError",
    "parse_options",
]
