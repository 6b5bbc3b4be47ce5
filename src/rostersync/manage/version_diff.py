"""What changed between two published roster versions, read from the rows that changed only.

A roster row carries the version that introduced it (``valid_from``) and the one that closed it
(``valid_to``). Between versions ``lo < hi``, the rows introduced in ``(lo, hi]`` and still
current at ``hi`` and the rows current at ``lo`` and closed in ``(lo, hi]`` are every record
that may differ; comparing their row hashes per sourcedId gives added, updated and deleted.
The database returns only those rows, so the diff of two adjacent versions of a mega district
costs the size of the change, not of the roster (``Store.diff_versions`` reads both versions
whole; it is used when the versions' row hashes were made by different releases).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from rostersync import manage
from rostersync.errors import VersionNotFound
from rostersync.store import Store
from rostersync.store.engine import translate_errors
from rostersync.store.schema import roster_tables


@dataclass(frozen=True)
class EntityDiff:
    """One entity's changes from version ``a`` to ``b``: counts and the first sourcedIds."""

    added: int
    updated: int
    deleted: int
    first: dict[str, list[str]]


def _rows(
    conn: sa.Connection, table: sa.Table, where: list[sa.ColumnElement[bool]]
) -> pl.DataFrame:
    stmt = sa.select(table.c.sourcedId, table.c.row_hash).where(*where)
    rows = conn.execute(stmt).all()
    return pl.DataFrame(
        {"sourcedId": [r[0] for r in rows], "row_hash": [r[1] for r in rows]},
        schema={"sourcedId": pl.Utf8, "row_hash": pl.Int64},
    )


def version_diff(
    store: Store, district: str | int, a: int, b: int, *, listed: int = 20
) -> dict[str, EntityDiff]:
    """Per entity with changes: added, updated, deleted from ``a`` to ``b`` (and the first
    ``listed`` sourcedIds of each, sorted)."""
    d = store.get_district(district)
    versions = {v.version: v for v in manage.list_versions(store, d.id)}
    for v in (a, b):
        if v not in versions:
            raise VersionNotFound(f"{d.name} has no version {v}", hint="see its versions")
    if len({versions[a].hash_tag, versions[b].hash_tag}) != 1:
        return {
            name: EntityDiff(
                e.added.len(),
                e.updated.len(),
                e.deleted.len(),
                {k: getattr(e, k).head(listed).to_list() for k in ("added", "updated", "deleted")},
            )
            for name, e in manage.diff_versions(store, d.id, a, b).items()
            if not e.is_empty
        }
    lo, hi = min(a, b), max(a, b)
    out: dict[str, EntityDiff] = {}
    with translate_errors(store.engine), store.engine.connect() as conn:
        for name, t in roster_tables.items():
            live_hi = sa.or_(t.c.valid_to.is_(None), t.c.valid_to > hi)
            new = _rows(
                conn,
                t,
                [t.c.district_id == d.id, t.c.valid_from > lo, t.c.valid_from <= hi, live_hi],
            )
            old = _rows(
                conn,
                t,
                [
                    t.c.district_id == d.id,
                    t.c.valid_from <= lo,
                    t.c.valid_to > lo,
                    t.c.valid_to <= hi,
                ],
            )
            both = new.join(old, on="sourcedId", how="inner", suffix="_old")
            changed = both.filter(pl.col("row_hash") != pl.col("row_hash_old"))["sourcedId"]
            appeared = new.join(old, on="sourcedId", how="anti")["sourcedId"]
            gone = old.join(new, on="sourcedId", how="anti")["sourcedId"]
            added, deleted = (appeared, gone) if a <= b else (gone, appeared)
            if added.len() or changed.len() or deleted.len():
                out[name] = EntityDiff(
                    added.len(),
                    changed.len(),
                    deleted.len(),
                    {
                        "added": added.sort().head(listed).to_list(),
                        "updated": changed.sort().head(listed).to_list(),
                        "deleted": deleted.sort().head(listed).to_list(),
                    },
                )
    return out
