"""Sync hold threshold: a run whose changes exceed a limit is held until an admin approves it.

A mass change is treated as a probable source fault (an SIS outage, an ID change, a broken file),
so limits exist per entity — and optionally per school — as a percentage of the last accepted
version and/or as a count, separately for creates, updates and deletes. Defaults: hold when more
than 10 % of an entity's records would be deleted, or more than 75 % updated.

This module holds the ``advanced.hold_threshold`` section of a source's configuration
(:class:`HoldThreshold`) and the pure decision (:func:`evaluate`). The decision is monotone: more
changes never turn a hold into a publish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from rostersync.changes.diff import SCHOOL_COLUMN, TOBEDELETED, ChangeSet, EntityChanges
from rostersync.model import ENTITIES, ENTITY_TYPES

Kind = Literal["create", "update", "delete"]
KIND_NAMES: tuple[Kind, ...] = ("create", "update", "delete")


def _known_scope(name: str) -> str:
    if name not in ENTITIES and name not in ENTITY_TYPES:
        names = ", ".join([*ENTITIES, *ENTITY_TYPES])
        raise ValueError(f"unknown entity {name} (one of: {names})")
    return name


#: A key of ``entities``: a canonical entity (users, classes…) or an entity type (student…).
Scope = Annotated[str, AfterValidator(_known_scope)]


class Limits(BaseModel):
    """Limits for one scope; ``None`` means no limit of that kind.

    Used as an override (``entities``), only the limits given replace the defaults, so a dump
    of a bare ``Limits`` keeps exactly the fields that were set. A limit set to ``null`` ("no
    limit") survives ``exclude_none`` (the store's dump), or reading the stored configuration
    back would bring the default limit back.
    """

    model_config = ConfigDict(extra="forbid")

    create_percent: float | None = Field(default=None, ge=0, description="Max % of creates.")
    update_percent: float | None = Field(default=None, ge=0, description="Max % of updates.")
    delete_percent: float | None = Field(default=None, ge=0, description="Max % of deletes.")
    create_count: int | None = Field(default=None, ge=0, description="Max number of creates.")
    update_count: int | None = Field(default=None, ge=0, description="Max number of updates.")
    delete_count: int | None = Field(default=None, ge=0, description="Max number of deletes.")

    @model_serializer(mode="wrap")
    def _serialize(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        names = list(type(self).model_fields)
        if type(self) is Limits:  # an override: only what was given
            names = [k for k in names if k in self.model_fields_set]
        return {k: out.get(k) for k in names if k in out or self._dropped_null(k, info)}

    def _dropped_null(self, name: str, info: SerializationInfo) -> bool:
        """A limit set to null that ``exclude_none`` left out of a dump."""
        return (
            info.exclude_none
            and name in Limits.model_fields
            and name in self.model_fields_set
            and getattr(self, name) is None
        )

    def percent(self, kind: Kind) -> float | None:
        value: float | None = getattr(self, f"{kind}_percent")
        return value

    def count(self, kind: Kind) -> int | None:
        value: int | None = getattr(self, f"{kind}_count")
        return value


class RolloverWindow(BaseModel):
    """A date window (inclusive) in which some kinds of change are not applied.

    ``additions_only``: only new records are published (end of year, before rollover);
    ``no_deletions``: records are added and updated but never removed (summer).
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["additions_only", "no_deletions"] = Field(
        description="additions_only (only new records) or no_deletions (nothing removed)."
    )
    start: date = Field(description="First day of the window (district's local date).")
    end: date = Field(description="Last day of the window, inclusive.")

    @model_validator(mode="after")
    def _ordered(self) -> RolloverWindow:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    def active(self, today: date) -> bool:
        return self.start <= today <= self.end


class HoldThreshold(Limits):
    """The ``advanced.hold_threshold`` section: default limits, overrides, windows."""

    delete_percent: float | None = Field(
        default=10, ge=0, description="Hold when more than this % of an entity would be deleted."
    )
    update_percent: float | None = Field(
        default=75, ge=0, description="Hold when more than this % of an entity would be updated."
    )
    entities: dict[Scope, Limits] = Field(
        default_factory=dict,
        description=(
            "Overrides per canonical entity (users, classes…) or entity type (student, teacher…); "
            "only the limits given replace the defaults."
        ),
    )
    per_school: bool = Field(
        default=False, description="Also apply the limits to each school's records separately."
    )
    allow_over_threshold_until: date | None = Field(
        default=None,
        description="Planned mass change: runs up to this date are never held for the threshold.",
    )
    rollover_windows: list[RolloverWindow] = Field(
        default_factory=list, description="Additions-only and no-deletions date windows."
    )

    def limits_for(self, scope: str) -> Limits:
        """The default limits with the scope's overrides applied."""
        base = Limits(**{k: getattr(self, k) for k in Limits.model_fields})
        override = self.entities.get(scope)
        if override is None:
            return base
        values = base.model_dump()
        values.update({k: getattr(override, k) for k in override.model_fields_set})
        return Limits(**values)

    def override_active(self, today: date) -> bool:
        until = self.allow_over_threshold_until
        return until is not None and today <= until


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
