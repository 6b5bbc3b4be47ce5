"""Typed records the store hands out: districts, sources, runs, roster versions and diffs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl


def dumps(value: Any) -> str:
    """JSON text of a stored JSON column: sorted keys, so equal values store equal."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def loads(text: str | None) -> Any:
    return json.loads(text) if text else {}


@dataclass(frozen=True)
class District:
    """A school district: the tenant everything else belongs to."""

    id: int
    name: str
    slug: str
    created_at: datetime


@dataclass(frozen=True)
class Source:
    """A source app activated for a district (e.g. its PowerSchool SIS)."""

    id: int
    district_id: int
    name: str
    app: str
    created_at: datetime


@dataclass(frozen=True)
class RunRecord:
    """One sync run: its status, phases and timings, counts, report and outcome."""

    id: int
    district_id: int
    source: str | None
    trigger: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    phases: dict[str, Any]
    counts: dict[str, Any]
    report: dict[str, Any]
    change_summary: dict[str, Any]
    error: str | None
    roster_version: int | None


@dataclass(frozen=True)
class EntityCounts:
    """Size of one entity's table in a version, and what changed from the version before."""

    total: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.deleted

    def as_dict(self) -> dict[str, int]:
        return {
            "total": self.total,
            "added": self.added,
            "updated": self.updated,
            "deleted": self.deleted,
        }


@dataclass(frozen=True)
class RosterVersion:
    """A published version of a district's roster."""

    district_id: int
    version: int
    created_at: datetime
    run_id: int | None
    note: str | None
    status: str
    counts: dict[str, EntityCounts]
    hash_tag: str

    @property
    def total_changed(self) -> int:
        return sum(c.changed for c in self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "district_id": self.district_id,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "run_id": self.run_id,
            "note": self.note,
            "status": self.status,
            "hash_tag": self.hash_tag,
            "counts": {name: c.as_dict() for name, c in self.counts.items()},
        }


@dataclass(frozen=True)
class VersionDiff:
    """What changed in one entity between two versions, as sourcedId Series (sorted)."""

    added: pl.Series = field(default_factory=lambda: pl.Series("sourcedId", [], pl.Utf8))
    updated: pl.Series = field(default_factory=lambda: pl.Series("sourcedId", [], pl.Utf8))
    deleted: pl.Series = field(default_factory=lambda: pl.Series("sourcedId", [], pl.Utf8))

    @property
    def is_empty(self) -> bool:
        return self.added.len() == 0 and self.updated.len() == 0 and self.deleted.len() == 0

    def counts(self, total: int = 0) -> EntityCounts:
        return EntityCounts(total, self.added.len(), self.updated.len(), self.deleted.len())


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log: who did what, to which district, when."""

    id: int
    district_id: int | None
    actor: str
    action: str
    detail: dict[str, Any]
    at: datetime
