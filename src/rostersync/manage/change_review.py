"""Reviewing a held run's changes record by record: one page of one entity's added, updated or
deleted records with every field's value before and after, optionally only the records whose
sourcedId contains a search text — read from the run's stored frames, never the whole set.

Counts come from :func:`rostersync.manage.changes.change_counts`; this module adds the values
an admin compares (an addition's fields after, a deletion's fields before, an update's changed
fields before and after), in the same long shape as the change set's CSV
(:mod:`rostersync.changes.report`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa

from rostersync.errors import VersionNotFound
from rostersync.manage.changes import KINDS, MAX_PAGE, ChangeKind
from rostersync.model import ENTITIES
from rostersync.store import RunRecord, Store
from rostersync.store.engine import translate_errors
from rostersync.store.schema import change_set_frames


@dataclass(frozen=True)
class ReviewPage:
    """Records ``offset`` to ``offset + limit`` of one entity's changes of one kind."""

    entity: str
    kind: ChangeKind
    search: str | None
    total: int
    offset: int
    limit: int
    #: ``{"sourcedId", "fields": [{"field", "before", "after"}]}`` per record, in order
    records: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "kind": self.kind,
            "search": self.search,
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "records": self.records,
        }


def _blob(store: Store, run_id: int, entity: str, part: str) -> bytes | None:
    c = change_set_frames.c
    stmt = sa.select(c.data).where(c.run_id == run_id, c.entity == entity, c.part == part)
    with translate_errors(store.engine), store.engine.connect() as conn:
        data = conn.execute(stmt).scalar_one_or_none()
    return None if data is None else bytes(data)


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        (
            pl.concat_str(
                [pl.lit("["), pl.col(c).cast(pl.List(pl.Utf8)).list.join(", "), pl.lit("]")]
            )
            if isinstance(frame.schema[c], pl.List)
            else pl.col(c).cast(pl.Utf8)
        ).alias(c)
        for c in frame.columns
    )


def review_page(
    store: Store,
    run: RunRecord,
    entity: str,
    kind: ChangeKind,
    *,
    offset: int = 0,
    limit: int = 25,
    search: str | None = None,
) -> ReviewPage:
    """One page of the run's ``kind`` changes of ``entity``, with their values."""
    if entity not in ENTITIES:
        raise VersionNotFound(
            f"Run {run.id} has no changes of {entity!r}",
            hint=f"entities are {', '.join(ENTITIES)}",
        )
    if kind not in KINDS:
        raise VersionNotFound(f"No kind of change {kind!r}", hint=f"use {', '.join(KINDS)}")
    limit = max(1, min(limit, MAX_PAGE))
    blob = _blob(store, run.id, entity, kind)
    if blob is None:
        return ReviewPage(entity, kind, search, 0, offset, limit)
    ids = pl.scan_parquet(io.BytesIO(blob)).select("sourcedId")
    if search:
        ids = ids.filter(pl.col("sourcedId").str.contains(search, literal=True))
    total = int(ids.select(pl.len()).collect().item())
    page_ids = ids.slice(offset, limit).collect().get_column("sourcedId").to_list()
    by_id: dict[str, list[dict[str, Any]]] = {i: [] for i in page_ids}
    if page_ids and kind == "updated":
        changed = _blob(store, run.id, entity, "fields")
        if changed is not None:
            rows = pl.scan_parquet(io.BytesIO(changed)).filter(pl.col("sourcedId").is_in(page_ids))
            for r in rows.collect().iter_rows(named=True):
                by_id[r["sourcedId"]].append(
                    {"field": r["field"], "before": r["before"], "after": r["after"]}
                )
    elif page_ids:
        side = "after" if kind == "added" else "before"
        other = "before" if side == "after" else "after"
        whole = pl.scan_parquet(io.BytesIO(blob)).filter(pl.col("sourcedId").is_in(page_ids))
        order = {f: i for i, f in enumerate(ENTITIES[entity].field_names)}
        long = (
            _as_text(whole.collect())
            .unpivot(index="sourcedId", variable_name="field", value_name="value")
            .filter(pl.col("value").is_not_null())
        )
        for r in long.iter_rows(named=True):
            by_id[r["sourcedId"]].append({"field": r["field"], side: r["value"], other: None})
        for values in by_id.values():
            values.sort(key=lambda f: order.get(f["field"], len(order)))
    records = [{"sourcedId": i, "fields": f} for i, f in by_id.items()]
    return ReviewPage(entity, kind, search, total, offset, limit, records)
