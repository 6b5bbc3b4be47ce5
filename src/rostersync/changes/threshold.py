"""Sync hold threshold: a run whose changes exceed a limit is held until an admin approves it.

A mass change is treated as a probable source fault (an SIS outage, an ID change, a broken file),
so limits exist per entity — and optionally per school — as a percentage of the last accepted
version and/or as a count, separately for creates, updates and deletes. Defaults: hold when more
than 10 % of an entity's records would be deleted, or more than 75 % updated.

The ``hold_threshold`` section of the district configuration (:class:`HoldThreshold`) is declared
in :mod:`rostersync.config`; this module holds the pure decision (:func:`evaluate`). The decision
is monotone: more changes never turn a hold into a publish.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from rostersync.changes.diff import SCHOOL_COLUMN, TOBEDELETED, ChangeSet, EntityChanges
from rostersync.config import KIND_NAMES, HoldThreshold, Kind, Limits, RolloverWindow
from rostersync.model import ENTITY_TYPES

__all__ = [
    "KIND_NAMES",
    "HoldThreshold",
    "Kind",
    "Limits",
    "RolloverWindow",
    "Trip",
    "evaluate",
    "scope_counts",
]


@dataclass(frozen=True)
class Trip:
    """One limit a run exceeded: the numbers an admin is shown."""

    scope: str  # canonical entity or entity type
    kind: Kind
    count: int
    base: int
    limit: str
    school: str | None = None

    @property
    def percent(self) -> float | None:
        return round(100.0 * self.count / self.base, 2) if self.base else None

    def __str__(self) -> str:
        where = f"{self.scope} at school {self.school}" if self.school else self.scope
        pct = f" ({self.percent}%)" if self.percent is not None else ""
        return (
            f"{where}: {self.count} {self.kind}s of {self.base} records{pct} "
            f"exceeds the limit {self.limit}"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "scope": self.scope,
            "school": self.school,
            "kind": self.kind,
            "count": self.count,
            "base": self.base,
            "percent": self.percent,
            "limit": self.limit,
            "message": str(self),
        }


def _count(frame: pl.DataFrame, key: pl.Expr, name: str) -> pl.DataFrame:
    # with_columns, not select: a literal key must broadcast to the frame's length, even 0
    keyed = frame.with_columns(key.alias("__k")).select(pl.col("__k").alias("school"))
    return keyed.group_by("school").agg(pl.len().cast(pl.Int64).alias(name))


def scope_counts(ch: EntityChanges, mask: pl.Expr, *, by_school: bool) -> pl.DataFrame:
    """Columns ``school, base, create, update, delete`` for one scope (one row unless by school).

    A status turned to ``tobedeleted`` counts as a delete, not an update.
    """
    school_col = SCHOOL_COLUMN.get(ch.entity)
    key = pl.col(school_col).fill_null("(no school)") if by_school and school_col else pl.lit("")
    deactivated = (pl.col("status") == TOBEDELETED) & (pl.col("__before_status") != TOBEDELETED)
    updated = ch.updated.with_columns(ch.updated_before["status"].alias("__before_status"))
    updated = updated.filter(mask)
    base = ch.base_counts.filter(mask)
    parts = [
        base.with_columns(key.alias("school"))
        .group_by("school")
        .agg(pl.col("n").sum().cast(pl.Int64).alias("base")),
        _count(ch.added.filter(mask), key, "create"),
        _count(updated.filter(~deactivated), key, "update"),
        _count(
            pl.concat(
                [
                    ch.deleted.filter(mask).with_columns(key.alias("__k")).select("__k"),
                    updated.filter(deactivated).with_columns(key.alias("__k")).select("__k"),
                ]
            ),
            pl.col("__k"),
            "delete",
        ),
    ]
    out = parts[0]
    for p in parts[1:]:
        out = out.join(p, on="school", how="full", coalesce=True, nulls_equal=True)
    return out.fill_null(0)


def _check(scope: str, limits: Limits, row: dict[str, int | str | None]) -> list[Trip]:
    trips = []
    base = int(row["base"] or 0)
    school = str(row["school"]) if row["school"] not in ("", None) else None
    for kind in KIND_NAMES:
        count = int(row[kind] or 0)
        pct = limits.percent(kind)
        cnt = limits.count(kind)
        if pct is not None and base > 0 and 100.0 * count / base > pct:
            trips.append(
                Trip(scope, kind, count, base, f"{pct:g}%", str(school) if school else None)
            )
        elif cnt is not None and count > cnt:
            trips.append(Trip(scope, kind, count, base, f"{cnt}", school))
    return trips


def evaluate(changes: ChangeSet, threshold: HoldThreshold) -> list[Trip]:
    """Every limit the change set exceeds (empty: within the threshold)."""
    trips: list[Trip] = []
    for name, ch in changes.entities.items():
        scopes: list[tuple[str, pl.Expr]] = [(name, pl.lit(True))]
        scopes += [
            (t.name, t.mask())
            for t in ENTITY_TYPES.values()
            if t.entity == name and t.roles is not None and t.name in threshold.entities
        ]
        for scope, mask in scopes:
            limits = threshold.limits_for(scope)
            groupings = [False, True] if threshold.per_school and name in SCHOOL_COLUMN else [False]
            for by_school in groupings:
                for row in scope_counts(ch, mask, by_school=by_school).iter_rows(named=True):
                    trips.extend(_check(scope, limits, row))
    return trips
