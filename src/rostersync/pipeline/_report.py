"""The run report: what each stage skipped, reported, filtered, merged or removed, and why.

Every stage returns a :class:`StageReport` whose ``records`` is one Polars frame (one row per
record and reason, built with expressions, never a Python loop over records). The
:class:`RunReport` joins them and writes JSON or one CSV per entity for the admin to download.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl

from rostersync.model import ENTITY_TYPES, Roster

REPORT_SCHEMA: Final = pl.Schema(
    {
        "stage": pl.Utf8(),
        "source": pl.Utf8(),
        "entity": pl.Utf8(),
        "entityType": pl.Utf8(),
        "sourcedId": pl.Utf8(),
        "action": pl.Utf8(),
        "reason": pl.Utf8(),
        "detail": pl.Utf8(),
    }
)

#: skipped: dropped for a missing attribute; reported: kept but listed; filtered: dropped by a
#: rule or the schools mapping; merged: became another record (detail: which); removed: dropped
#: by referential cleanup; won: a source's value was chosen for an attribute of a record several
#: sources have (reason: the attribute, detail: why); relinked: a record whose ID changed in the
#: source keeps its published sourcedId (detail: that ID).
ACTIONS: Final = ("skipped", "reported", "filtered", "merged", "removed", "won", "relinked")

_TYPE_OF_ROLE: Final = {
    role: name for name, t in ENTITY_TYPES.items() if t.roles for role in t.roles
}
_TYPE_OF_ENTITY: Final = {t.entity: name for name, t in ENTITY_TYPES.items() if t.roles is None}


def entity_type_expr(entity: str) -> pl.Expr:
    """The admin's entity type of each row of a canonical table (users: by role)."""
    if entity == "users":
        return pl.col("role").replace_strict(_TYPE_OF_ROLE, default="user", return_dtype=pl.Utf8)
    return pl.lit(_TYPE_OF_ENTITY.get(entity, entity), dtype=pl.Utf8)


def entries(
    frame: pl.DataFrame,
    *,
    stage: str,
    entity: str,
    action: str,
    reason: str | pl.Expr,
    detail: str | pl.Expr | None = None,
    source: str | None = None,
) -> pl.DataFrame:
    """Report rows for every row of ``frame`` (which has the entity's columns)."""
    reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
    detail_expr = (
        pl.lit(detail, dtype=pl.Utf8) if detail is None or isinstance(detail, str) else detail
    )
    source_expr = pl.lit(source) if source is not None else pl.col("source")
    type_expr = (
        entity_type_expr(entity) if "role" in frame.columns or entity != "users" else pl.lit("user")
    )
    return frame.select(
        pl.lit(stage).alias("stage"),
        source_expr.cast(pl.Utf8).alias("source"),
        pl.lit(entity).alias("entity"),
        type_expr.alias("entityType"),
        pl.col("sourcedId").cast(pl.Utf8),
        pl.lit(action).alias("action"),
        reason_expr.cast(pl.Utf8).alias("reason"),
        detail_expr.cast(pl.Utf8).alias("detail"),
    )


def empty_records() -> pl.DataFrame:
    return pl.DataFrame(schema=REPORT_SCHEMA)


@dataclass
class StageReport:
    """What one stage did: record counts per entity before/after, and the listed records."""

    stage: str
    source: str | None
    counts: dict[str, tuple[int, int]]
    records: pl.DataFrame = field(default_factory=empty_records)

    @classmethod
    def build(
        cls,
        stage: str,
        source: str | None,
        before: Roster,
        after: Roster,
        parts: list[pl.DataFrame] | None = None,
    ) -> StageReport:
        counts = {
            name: (before[name].height if name in before else 0, table.height)
            for name, table in after.items()
        }
        records = pl.concat([empty_records(), *(parts or [])], how="vertical_relaxed")
        if source is not None:
            records = records.with_columns(pl.col("source").fill_null(source))
        return cls(stage, source, counts, records)

    def count(self, action: str) -> int:
        return int(self.records.filter(pl.col("action") == action).height)


@dataclass
class RunReport:
    """The report of one pipeline run: every stage, records in and out per entity."""

    stages: list[StageReport]
    records_in: dict[str, int]
    records_out: dict[str, int]
    #: Re-links found by this run (``entity, from_id, to_id, confidence, detail``), for the
    #: sync to keep; None when the run did not look for any.
    links: pl.DataFrame | None = None

    @property
    def records(self) -> pl.DataFrame:
        """Every listed record of every stage, one frame."""
        return pl.concat([empty_records(), *(s.records for s in self.stages)])

    def summary(self) -> dict[str, dict[str, int]]:
        """Per entity: records in and out, and how many were skipped, reported, filtered…"""
        counted = self.records.group_by("entity", "action").len()
        out: dict[str, dict[str, int]] = {}
        for entity in self.records_out:
            row = {"in": self.records_in.get(entity, 0), "out": self.records_out[entity]}
            row.update(dict.fromkeys(ACTIONS, 0))
            out[entity] = row
        for entity, action, n in counted.iter_rows():
            out.setdefault(entity, {"in": 0, "out": 0})[action] = int(n)
        return out

    def reasons(self) -> list[dict[str, Any]]:
        """How many records each stage listed for each reason (e.g. each validity fallback)."""
        counted = (
            self.records.group_by("stage", "entity", "action", "reason", maintain_order=True)
            .len("count")
            .sort("stage", "entity", "reason")
        )
        return counted.to_dicts()

    def to_dict(self, *, max_records: int | None = None) -> dict[str, Any]:
        """Summary, per-stage counts, counts per reason and the listed records (the first
        ``max_records``)."""
        records = self.records
        total = records.height
        if max_records is not None:
            records = records.head(max_records)
        return {
            "summary": self.summary(),
            "stages": [
                {
                    "stage": s.stage,
                    "source": s.source,
                    "counts": {k: {"in": v[0], "out": v[1]} for k, v in s.counts.items()},
                    **{a: s.count(a) for a in ACTIONS},
                }
                for s in self.stages
            ],
            "reasons": self.reasons(),
            "records": records.to_dicts(),
            "records_total": total,
        }

    def to_json(self, *, indent: int | None = None, max_records: int | None = None) -> str:
        """The report as JSON text; a big run may list only its first ``max_records`` records
        here (the CSV files always have them all)."""
        return json.dumps(self.to_dict(max_records=max_records), indent=indent)

    def write_csv(self, directory: str | Path) -> list[Path]:
        """``summary.csv`` and one ``<entity>.csv`` of listed records per entity."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        summary = pl.DataFrame(
            [{"entity": e, **row} for e, row in self.summary().items()],
            schema={"entity": pl.Utf8, "in": pl.Int64, "out": pl.Int64}
            | dict.fromkeys(ACTIONS, pl.Int64),
        )
        path = directory / "summary.csv"
        summary.write_csv(path)
        written.append(path)
        records = self.records
        for (entity,), part in records.partition_by("entity", as_dict=True).items():
            path = directory / f"{entity}.csv"
            part.drop("entity").write_csv(path)
            written.append(path)
        return written
