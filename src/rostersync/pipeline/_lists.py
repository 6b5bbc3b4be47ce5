"""Columnar operations on list columns of IDs (``agentSourcedIds``, ``orgSourcedIds``…).

Filtering or rewriting list elements against another table's IDs inside ``list.eval`` runs row
by row in Polars; these helpers explode the lists once, work on the flat column with joins and
hash lookups, and gather the lists back, element order kept.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

_ROW = "__row"


def _flat(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    return (
        frame.select(pl.col(column))
        .with_row_index(_ROW)
        .explode(column, keep_nulls=False, empty_as_null=False)
    )


def _rebuild(
    frame: pl.DataFrame, column: str, rows: pl.Series, changed: pl.DataFrame
) -> pl.DataFrame:
    """``frame`` with the lists of ``rows`` replaced by ``changed``'s elements (others kept)."""
    dtype = frame.schema[column]
    lists = changed.group_by(_ROW, maintain_order=True).agg(pl.col(column).alias("__new"))
    index = pl.DataFrame({_ROW: pl.int_range(0, frame.height, dtype=pl.UInt32, eager=True)})
    aligned = index.join(lists, on=_ROW, how="left", maintain_order="left")
    touched = index.get_column(_ROW).is_in(rows.implode())
    rebuilt = aligned.get_column("__new").cast(dtype)
    return frame.with_columns(
        pl.when(pl.lit(touched))
        .then(pl.coalesce(rebuilt, pl.lit([], dtype=dtype)))
        .otherwise(pl.col(column))
        .alias(column)
    )


def _edit(
    frame: pl.DataFrame,
    column: str,
    hit: Callable[[pl.Expr], pl.Expr],
    fn: Callable[[pl.DataFrame], pl.DataFrame],
) -> pl.DataFrame:
    """Apply ``fn`` to the exploded elements of the lists having an element where ``hit``."""
    if frame.height == 0:
        return frame
    flat = _flat(frame, column)
    rows = flat.filter(hit(pl.col(column)))[_ROW].unique()
    if rows.len() == 0:
        return frame
    changed = fn(flat.filter(pl.col(_ROW).is_in(rows.implode())))
    return _rebuild(frame, column, rows, changed)


def keep_in_list(frame: pl.DataFrame, column: str, allowed: pl.Series) -> pl.DataFrame:
    """Only the list elements that are in ``allowed``."""
    keep = allowed.implode()
    return _edit(
        frame,
        column,
        lambda e: ~e.is_in(keep),
        lambda f: f.filter(pl.col(column).is_in(keep)),
    )


def drop_from_list(frame: pl.DataFrame, column: str, gone: pl.Series) -> pl.DataFrame:
    """The list elements that are not in ``gone``."""
    drop = gone.implode()
    return _edit(
        frame,
        column,
        lambda e: e.is_in(drop),
        lambda f: f.filter(~pl.col(column).is_in(drop)),
    )


def replace_in_list(
    frame: pl.DataFrame, column: str, old: pl.Series, new: pl.Series
) -> pl.DataFrame:
    """Elements rewritten by ``old`` → ``new``, duplicates made by the rewrite removed.

    Only the lists holding an old ID are rebuilt; the others are left as they are.
    """
    olds = old.implode()
    return _edit(
        frame,
        column,
        lambda e: e.is_in(olds),
        lambda f: f.with_columns(pl.col(column).replace(old, new)).unique(
            [_ROW, column], maintain_order=True
        ),
    )


def any_in_list(frame: pl.DataFrame, column: str, values: pl.Series) -> pl.Series:
    """Per row: whether any element of the list is in ``values``."""
    if frame.height == 0:
        return pl.Series(column, [], dtype=pl.Boolean)
    flat = _flat(frame, column)
    hit = flat.filter(pl.col(column).is_in(values.implode()))[_ROW]
    return pl.int_range(0, frame.height, dtype=pl.UInt32, eager=True).is_in(hit.implode())
