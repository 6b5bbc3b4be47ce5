"""A run's change set for people: counts, and rows with before/after, on screen or as CSV.

One long table per entity — ``change, sourcedId, field, before, after`` — the same shape for the
CLI, the downloadable CSV and the web page: an update lists each changed field, an addition its
non-empty fields (after), a deletion its non-empty fields (before).
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from rostersync import fsutil
from rostersync.changes.diff import ChangeSet, EntityChanges
from rostersync.model import ENTITIES

COLUMNS = ("change", "sourcedId", "field", "before", "after")


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        [
            (
                pl.concat_str([pl.lit("["), pl.col(c).list.join(", "), pl.lit("]")])
                if isinstance(frame.schema[c], pl.List)
                else pl.col(c).cast(pl.Utf8)
            ).alias(c)
            for c in frame.columns
        ]
    )


def _whole_rows(frame: pl.DataFrame, change: str, side: str) -> pl.DataFrame:
    long = (
        _as_text(frame)
        .unpivot(index="sourcedId", variable_name="field", value_name="value")
        .filter(pl.col("value").is_not_null())
    )
    other = "before" if side == "after" else "after"
    return long.select(
        pl.lit(change).alias("change"),
        "sourcedId",
        "field",
        pl.lit(None, pl.Utf8).alias(other),
        pl.col("value").alias(side),
    ).select(COLUMNS)


def change_rows(ch: EntityChanges) -> pl.DataFrame:
    """The long ``change, sourcedId, field, before, after`` table of one entity."""
    order = {f: i for i, f in enumerate(ENTITIES[ch.entity].field_names)}
    parts = [
        _whole_rows(ch.added, "added", "after"),
        ch.fields.select(
            pl.lit("updated").alias("change"), "sourcedId", "field", "before", "after"
        ),
        _whole_rows(ch.deleted, "deleted", "before"),
    ]
    out = pl.concat([p for p in parts if p.height] or [parts[1]])
    kinds = {"updated": 0, "added": 1, "deleted": 2}  # what an admin reviews first
    return (
        out.with_columns(
            pl.col("change").replace_strict(kinds, default=3).alias("__k"),
            pl.col("field").replace_strict(order, default=len(order)).alias("__o"),
        )
        .sort("__k", "sourcedId", "__o")
        .drop("__k", "__o")
    )


def write_csv(changes: ChangeSet, directory: Path, entities: list[str] | None = None) -> list[Path]:
    """One CSV per entity with changes into ``directory``; returns the files written."""
    fsutil.private_dir(directory, narrow=False)  # change lists name pupils: 0700 / 0600
    written = []
    for name, ch in changes.entities.items():
        if entities and name not in entities:
            continue
        if not ch.total:
            continue
        path = directory / f"{name}.csv"
        buffer = io.BytesIO()
        change_rows(ch).write_csv(buffer)
        fsutil.atomic_write(path, buffer.getvalue())
        written.append(path)
    return written
