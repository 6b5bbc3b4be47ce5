"""A run's change set, read a page at a time: counts and one entity's changes, never the whole set.

The run stores its change set as one Parquet frame per (entity, part) with its row count
(:mod:`rostersync.sync.changesets`). The counts come from those row counts (and the run's
change summary, for the base/candidate totals and deactivations it recorded at its decision);
a page reads one part of one entity, only its ``sourcedId`` column and only the rows up to the
page's end, and for updates the changed fields of that page's records.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl
import sqlalchemy as sa

from rostersync.errors import VersionNotFound
from rostersync.model import ENTITIES
from rostersync.store import RunRecord, Store
from rostersync.store.engine import translate_errors
from rostersync.store.schema import change_set_frames

ChangeKind = Literal["added", "updated", "deleted"]
KINDS: tuple[ChangeKind, ...] = ("added", "updated", "deleted")
#: The largest page of changes one read returns.
MAX_PAGE = 1000


@dataclass(frozen=True)
class ChangePage:
    """One page of a run's changes of one entity and kind."""

    entity: str
    kind: ChangeKind
    total: int
    offset: int
    limit: int
    sourced_ids: list[str]
    #: for updated records: every changed field, before and after
    fields: list[dict[str, Any]] = field(default_factory=list)


def change_counts(store: Store, run: RunRecord) -> tuple[int, dict[str, dict[str, int]]]:
    """The run's total and per-entity counts (every entity, zeros included)."""
    c = change_set_frames.c
    stmt = sa.select(c.entity, c.part, c.row_count).where(c.run_id == run.id, c.part.in_(KINDS))
    with translate_errors(store.engine), store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    stored = {(r.entity, r.part): int(r.row_count) for r in rows}
    summary = run.change_summary.get("entities")
    recorded: dict[str, Any] = summary if isinstance(summary, dict) else {}
    out: dict[str, dict[str, int]] = {}
    for name in ENTITIES:
        entry = recorded.get(name)
        known: dict[str, Any] = entry if isinstance(entry, dict) else {}
        counts: dict[str, int] = {k: stored.get((name, k), 0) for k in KINDS}
        out[name] = {
            "base": int(known.get("base", 0)),
            "candidate": int(known.get("candidate", 0)),
            **counts,
            "deactivated": int(known.get("deactivated", 0)),
        }
    total = sum(v[k] for v in out.values() for k in KINDS)
    return total, out


def _frame(store: Store, run_id: int, entity: str, part: str) -> tuple[int, bytes] | None:
    c = change_set_frames.c
    stmt = sa.select(c.row_count, c.data).where(
        c.run_id == run_id, c.entity == entity, c.part == part
    )
    with translate_errors(store.engine), store.engine.connect() as conn:
        row = conn.execute(stmt).first()
    return None if row is None else (int(row.row_count), bytes(row.data))


def change_page(
    store: Store, run: RunRecord, entity: str, kind: ChangeKind, offset: int, limit: int
) -> ChangePage:
    """sourcedIds ``offset`` to ``offset + limit`` of the run's ``kind`` changes of ``entity``."""
    if entity not in ENTITIES:
        raise VersionNotFound(
            f"Run {run.id} has no changes of {entity!r}",
            hint=f"entities are {', '.join(ENTITIES)}",
        )
    limit = max(1, min(limit, MAX_PAGE))
    found = _frame(store, run.id, entity, kind)
    if found is None:
        return ChangePage(entity, kind, 0, offset, limit, [])
    total, blob = found
    ids: list[str] = []
    if offset < total:
        column = pl.read_parquet(io.BytesIO(blob), columns=["sourcedId"], n_rows=offset + limit)
        ids = column.get_column("sourcedId").slice(offset, limit).to_list()
    fields: list[dict[str, Any]] = []
    if kind == "updated" and ids:
        changed = _frame(store, run.id, entity, "fields")
        if changed is not None:
            frame = (
                pl.scan_parquet(io.BytesIO(changed[1]))
                .filter(pl.col("sourcedId").is_in(ids))
                .collect()
            )
            fields = list(frame.iter_rows(named=True))
    return ChangePage(entity, kind, total, offset, limit, ids, fields)
