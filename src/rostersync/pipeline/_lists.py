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


def list_apply(
    frame: pl.DataFrame, column: str, fn: Callable[[pl.DataFrame], pl.DataFrame]
) -> pl.DataFrame:
    """``frame`` with ``column``'s lists rebuilt from ``fn`` applied to their exploded elements.

    ``fn`` gets and returns a frame of (row index, element); it may drop or change elements.
    A null list stays null; a list whose elements are all dropped becomes empty.
    """
    if frame.height == 0:
        return frame
    dtype = frame.schema[column]
    changed = fn(_flat(frame, column))
    lists = changed.group_by(_ROW, maintain_order=True).agg(pl.col(column))
    rebuilt = (
        pl.DataFrame({_ROW: pl.int_range(0, frame.height, dtype=pl.UInt32, eager=True)})
        .join(lists, on=_ROW, how="left", maintain_order="left")
        .get_column(column)
    )
    empty = pl.lit([], dtype=dtype)
    return frame.with_columns(
        pl.when(pl.col(column).is_null())
        .then(None)
        .otherwise(pl.coalesce(rebuilt.cast(dtype), empty))
        .alias(column)
    )


def keep_in_list(frame: pl.DataFrame, column: str, allowed: pl.Series) -> pl.DataFrame:
    """Only the list elements that are in ``allowed``."""
    keep = allowed.implode()
    return list_apply(frame, column, lambda f: f.filter(pl.col(column).is_in(keep)))


def drop_from_list(frame: pl.DataFrame, column: str, gone: pl.Series) -> pl.DataFrame:
    """The list elements that are not in ``gone``."""
    drop = gone.implode()
    return list_apply(frame, column, lambda f: f.filter(~pl.col(column).is_in(drop)))


def replace_in_list(
    frame: pl.DataFrame, column: str, old: pl.Series, new: pl.Series
) -> pl.DataFrame:
    """Elements rewritten by ``old`` → ``new``, duplicates made by the rewrite removed."""
    return list_apply(
        frame,
        column,
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
