"""Change sets: a candidate roster diffed against the last accepted version, per entity.

Columnar throughout: one row hash per record over the canonical columns, a join on ``sourcedId``,
and field-level before/after computed one *column* at a time (a few dozen vectorised comparisons),
never one record at a time.

Kinds of change:

- ``added``: a sourcedId the base does not have;
- ``updated``: a sourcedId in both whose canonical columns differ (``fields`` lists each changed
  field with its before and after text); an update that turns ``status`` to ``tobedeleted`` is also
  counted as a *deactivation*, which the hold threshold treats as a deletion;
- ``deleted``: a sourcedId of the base the candidate lacks, when absence means deletion
  (``bulk_upload=True`` here). Otherwise absence changes nothing: the record is carried over from
  the base (a source that stops sending a record has not said it is gone).

Deletion semantics (decided once, applied by :func:`rostersync.sync.wiring.options_for`): absence
means deletion for a source whose connector extracts a **complete snapshot** of its scope on every
run (``complete_snapshot = True`` on the connector class — the PowerSchool connector does: every
school of the mapping, every student the school lists), and for any source in **bulk upload**
mode. ``bulk_upload`` therefore matters for sources that may send partial files; for PowerSchool a
withdrawn student is deleted with it off. With several sources, absence deletes only when every
source is such a source. The hold threshold still guards against outages (and the source-health
check fails a run whose extract came back empty or lost a whole school).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from rostersync.errors import SourceDataError
from rostersync.model import ENTITIES, Entity, Roster, conform

#: The status value a source uses to say a record is gone (OneRoster).
TOBEDELETED = "tobedeleted"
_HASH = "__row_hash"
KINDS = ("added", "updated", "deleted")

#: The column naming a record's school, for entities that belong to one (per-school limits and
#: the "lost a whole school" health check).
SCHOOL_COLUMN: dict[str, str] = {
    "users": "primaryOrgSourcedId",
    "classes": "schoolSourcedId",
    "enrollments": "schoolSourcedId",
    "courses": "orgSourcedId",
    "academicSessions": "orgSourcedId",
}


def group_columns(entity: str) -> list[str]:
    """Columns the base is counted by: the user role (entity types) and the school."""
    cols = ["role"] if entity == "users" else []
    if entity in SCHOOL_COLUMN:
        cols.append(SCHOOL_COLUMN[entity])
    return cols


def base_counts(entity: str, base: pl.DataFrame) -> pl.DataFrame:
    """Number of base records per role and school (a small table, for percentages)."""
    cols = group_columns(entity)
    if not cols:
        return pl.DataFrame({"n": [base.height]}, schema={"n": pl.UInt32})
    return base.group_by(cols).agg(pl.len().alias("n"))


@dataclass(frozen=True)
class EntityChanges:
    """The changes of one canonical entity: full rows per kind and field-level detail."""

    entity: str
    base_total: int
    candidate_total: int
    added: pl.DataFrame
    updated: pl.DataFrame  # the rows after the change
    updated_before: pl.DataFrame  # the same sourcedIds, before
    deleted: pl.DataFrame  # the rows as they were in the base
    fields: pl.DataFrame  # sourcedId, field, before, after (text)
    base_counts: pl.DataFrame  # base records by role and school (see ``group_columns``)

    @property
    def deactivated(self) -> int:
        """Updated rows whose status turned to ``tobedeleted``."""
        if self.updated.height == 0:
            return 0
        return int(
            self.updated.select(
                (
                    (pl.col("status") == TOBEDELETED)
                    & (self.updated_before["status"] != TOBEDELETED)
                ).sum()
            ).item()
        )

    def counts(self) -> dict[str, int]:
        """Numbers of this entity's changes, as stored in the run's change summary."""
        return {
            "base": self.base_total,
            "candidate": self.candidate_total,
            "added": self.added.height,
            "updated": self.updated.height,
            "deleted": self.deleted.height,
            "deactivated": self.deactivated,
        }

    @property
    def total(self) -> int:
        return self.added.height + self.updated.height + self.deleted.height


@dataclass(frozen=True)
class ChangeSet:
    """Per-entity changes of a run's candidate roster against the last accepted version."""

    entities: dict[str, EntityChanges] = field(default_factory=dict)
    base_version: int | None = None

    def counts(self) -> dict[str, dict[str, int]]:
        return {name: ch.counts() for name, ch in self.entities.items()}

    @property
    def total(self) -> int:
        return sum(ch.total for ch in self.entities.values())

    def is_empty(self) -> bool:
        return self.total == 0

    def summary(self) -> dict[str, Any]:
        """A JSON-able summary: totals and per-entity counts."""
        return {
            "base_version": self.base_version,
            "total": self.total,
            "entities": self.counts(),
        }


def row_hashes(entity: str | Entity, table: pl.DataFrame) -> pl.Series:
    """A u64 hash of each row over the entity's content columns, in schema order
    (``dateLastModified`` is the store's stamp of a change, not a change itself)."""
    ent = ENTITIES[entity] if isinstance(entity, str) else entity
    return table.select(ent.content_names).hash_rows().alias(_HASH)


def _check_unique(entity: str, table: pl.DataFrame, what: str) -> None:
    if table["sourcedId"].n_unique() == table.height:
        return
    dup = table.filter(pl.col("sourcedId").is_duplicated())
    if dup.height:
        sample = dup["sourcedId"][0]
        raise SourceDataError(
            f"{entity}: {dup['sourcedId'].n_unique()} sourcedId(s) appear more than once in the "
            f"{what} (e.g. {sample!r})",
            hint="check the uniqueness domains and the SIS ID prefix of the sources",
        )


def _as_text(dtype: pl.DataType, col: str) -> pl.Expr:
    if isinstance(dtype, pl.List):
        return pl.concat_str([pl.lit("["), pl.col(col).list.join(", "), pl.lit("]")])
    return pl.col(col).cast(pl.Utf8)


def field_changes(entity: str | Entity, before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """Long table ``sourcedId, field, before, after`` of every differing field.

    ``before`` and ``after`` hold the same sourcedIds in the same order.
    """
    ent = ENTITIES[entity] if isinstance(entity, str) else entity
    parts = []
    for f in ent.fields:
        if f.name in ("sourcedId", "dateLastModified"):
            continue
        changed = before[f.name].ne_missing(after[f.name])
        if not changed.any():
            continue
        part = pl.DataFrame(
            {
                "sourcedId": after["sourcedId"].filter(changed),
                "before": before.filter(changed).select(_as_text(f.dtype, f.name)).to_series(),
                "after": after.filter(changed).select(_as_text(f.dtype, f.name)).to_series(),
            }
        ).select("sourcedId", pl.lit(f.name).alias("field"), "before", "after")
        parts.append(part)
    if not parts:
        return pl.DataFrame(
            schema={"sourcedId": pl.Utf8, "field": pl.Utf8, "before": pl.Utf8, "after": pl.Utf8}
        )
    return pl.concat(parts).sort("sourcedId", "field", maintain_order=True)


def diff_table(
    entity: str, base: pl.DataFrame, candidate: pl.DataFrame, *, bulk_upload: bool = True
) -> EntityChanges:
    """Columnar diff of one entity's table: hash each row, join on sourcedId, compare hashes."""
    ent = ENTITIES[entity]
    base = conform(ent, base)
    candidate = conform(ent, candidate)
    _check_unique(entity, base, "last accepted version")
    _check_unique(entity, candidate, "candidate roster")
    # One full join of (sourcedId, hash) pairs classifies every record; the full rows are then
    # fetched for the (small) changed sets only.
    keys = pl.DataFrame({"sourcedId": base["sourcedId"], "__b": row_hashes(ent, base)}).join(
        pl.DataFrame({"sourcedId": candidate["sourcedId"], "__c": row_hashes(ent, candidate)}),
        on="sourcedId",
        how="full",
        coalesce=True,
    )
    added_ids = keys.filter(pl.col("__b").is_null()).select("sourcedId")
    gone_ids = keys.filter(pl.col("__c").is_null()).select("sourcedId")
    changed_ids = keys.filter(pl.col("__b") != pl.col("__c")).select("sourcedId").sort("sourcedId")
    added = candidate.join(added_ids, on="sourcedId", how="semi")
    deleted = base.join(gone_ids, on="sourcedId", how="semi") if bulk_upload else base.clear()
    updated = changed_ids.join(candidate, on="sourcedId", how="left").select(ent.field_names)
    updated_before = changed_ids.join(base, on="sourcedId", how="left").select(ent.field_names)
    fields = field_changes(ent, updated_before, updated)
    kept = 0 if bulk_upload else gone_ids.height
    return EntityChanges(
        entity=entity,
        base_total=base.height,
        candidate_total=candidate.height + kept,
        added=added.sort("sourcedId"),
        updated=updated,
        updated_before=updated_before,
        deleted=deleted.sort("sourcedId"),
        fields=fields,
        base_counts=base_counts(entity, base),
    )


def diff_rosters(
    base: Mapping[str, pl.DataFrame],
    candidate: Mapping[str, pl.DataFrame],
    *,
    bulk_upload: bool = True,
    base_version: int | None = None,
    entities: Iterable[str] | None = None,
) -> ChangeSet:
    """Diff every canonical entity; a table missing on either side counts as empty."""
    out: dict[str, EntityChanges] = {}
    for name in entities or ENTITIES:
        ent = ENTITIES[name]
        out[name] = diff_table(
            name,
            base.get(name, ent.empty()),
            candidate.get(name, ent.empty()),
            bulk_upload=bulk_upload,
        )
    return ChangeSet(out, base_version)


def apply_changes(base: Mapping[str, pl.DataFrame], changes: ChangeSet) -> Roster:
    """The roster that results from applying ``changes`` to ``base`` (sorted by sourcedId).

    ``apply_changes(A, diff_rosters(A, B))`` equals ``B`` (in bulk upload mode); outside bulk
    upload mode it equals ``B`` plus the records of ``A`` that ``B`` lacks.
    """
    out: Roster = {}
    for name, ent in ENTITIES.items():
        table = conform(ent, base.get(name, ent.empty()))
        ch = changes.entities.get(name)
        if ch is not None and ch.total:
            gone = pl.concat([ch.deleted.select("sourcedId"), ch.updated.select("sourcedId")])
            table = pl.concat(
                [
                    table.join(gone, on="sourcedId", how="anti"),
                    conform(ent, ch.updated),
                    conform(ent, ch.added),
                ]
            )
        out[name] = table.sort("sourcedId")
    return out
