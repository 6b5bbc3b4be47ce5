"""SIS ID prefix: every ID of a source gets the source's prefix, so equal IDs from two sources of
the same type never merge.

Prefixed consistently: every ``sourcedId`` and every reference column — a column named
``…SourcedId`` or a list column named ``…SourcedIds`` (including ``agentSourcedIds``).
"""

from __future__ import annotations

import polars as pl

from rostersync.config import SourceConfig
from rostersync.model import Roster
from rostersync.pipeline._report import StageReport

STAGE = "sis_prefix"


def id_columns(schema: pl.Schema) -> list[str]:
    """The ID and reference columns of a canonical table."""
    return [c for c in schema if c == "sourcedId" or c.endswith(("SourcedId", "SourcedIds"))]


def prefix_ids(table: pl.DataFrame, prefix: str) -> pl.DataFrame:
    """``table`` with ``prefix`` in front of every ID it holds."""
    exprs = []
    for col in id_columns(table.schema):
        if isinstance(table.schema[col], pl.List):
            exprs.append(pl.col(col).list.eval(pl.lit(prefix) + pl.element()))
        else:
            exprs.append((pl.lit(prefix) + pl.col(col)).alias(col))
    return table.with_columns(exprs)


def sis_prefix(tables: Roster, config: SourceConfig) -> tuple[Roster, StageReport]:
    """Prefix every ID with ``advanced.sis_prefix`` (nothing to do when it is empty)."""
    prefix = config.advanced.sis_prefix
    if not prefix:
        return tables, StageReport.build(STAGE, config.name, tables, tables)
    out = {name: prefix_ids(table, prefix) for name, table in tables.items()}
    return out, StageReport.build(STAGE, config.name, tables, out)
