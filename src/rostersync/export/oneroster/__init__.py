"""OneRoster 1.1 and 1.2: REST provider (rostering service), CSV export, per-app sharing."""

from rostersync.export.oneroster.csv_export import ExportResult, write_package
from rostersync.export.oneroster.filtering import FilterError, compile_filter, parse_filter
from rostersync.export.oneroster.sharing import SharingRules

__all__ = [
    "ExportResult",
    "FilterError",
    "SharingRules",
    "compile_filter",
    "parse_filter",
    "write_package",
]
