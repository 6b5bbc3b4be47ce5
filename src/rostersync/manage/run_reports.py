"""A run's report read back for people: the pipeline's summary and the records each stage
skipped, reported, filtered, merged or removed, one page at a time, and its per-entity CSV files.

The sync writes the report to the run's directory (``reports/run-N``: ``summary.csv`` and one
``<entity>.csv`` of listed records); pages are read from those files lazily (Polars scans only
the rows asked for), so a report of a million records is never loaded whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from rostersync.errors import ConfigurationError, VersionNotFound
from rostersync.store import RunRecord

_ENTITY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
ACTIONS = ("skipped", "reported", "filtered", "merged", "removed")
MAX_PAGE = 1000


@dataclass(frozen=True)
class ReportPage:
    """Listed records of one entity of a run's report, from ``offset``."""

    run_id: int
    entity: str
    action: str | None
    total: int
    offset: int
    limit: int
    records: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "entity": self.entity,
            "action": self.action,
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "records": self.records,
        }


def report_files(run: RunRecord) -> dict[str, Path]:
    """The run's per-entity report files by entity (empty when the report was not written)."""
    where = run.report.get("files") if isinstance(run.report, dict) else None
    if not isinstance(where, str) or not Path(where).is_dir():
        return {}
    return {
        p.stem: p
        for p in sorted(Path(where).glob("*.csv"))
        if p.stem != "summary" and _ENTITY.match(p.stem)
    }


def report_file(run: RunRecord, entity: str) -> Path:
    """One entity's CSV of the run's report; a clear error naming the ones there are."""
    files = report_files(run)
    if entity not in files:
        known = ", ".join(files) or "none"
        raise VersionNotFound(
            f"Run {run.id} lists no records of {entity!r} in its report (entities: {known})"
        )
    return files[entity]


def report_page(
    run: RunRecord, entity: str, *, action: str | None = None, offset: int = 0, limit: int = 50
) -> ReportPage:
    """One page of the records the run's report lists for ``entity`` (optionally one action)."""
    if action is not None and action not in ACTIONS:
        raise ConfigurationError(
            f"action: {action!r} is not a report action", hint=f"use {', '.join(ACTIONS)}"
        )
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ConfigurationError(f"limit: give 1 to {MAX_PAGE} records from an offset ≥ 0")
    scan = pl.scan_csv(report_file(run, entity), infer_schema=False)
    if action is not None:
        scan = scan.filter(pl.col("action") == action)
    total = int(scan.select(pl.len()).collect().item())
    rows = scan.slice(offset, limit).collect().to_dicts()
    return ReportPage(run.id, entity, action, total, offset, limit, rows)
