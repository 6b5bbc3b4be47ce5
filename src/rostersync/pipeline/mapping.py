"""Attributes mapping: per entity type, which source field (or constant, or transform) fills which
canonical attribute.

Mappings of one entity type are computed together from the extracted values, so a mapping reads
the source's field, not another mapping's result. A value that does not convert to the
attribute's type (a date that does not parse) becomes empty, which data requirements then report
or skip.
"""

from __future__ import annotations

import polars as pl

from rostersync.config import SourceConfig
from rostersync.config import _fields as fields
from rostersync.model import Roster
from rostersync.pipeline._exprs import (
    compile_mapping,
    split_by_type,
    with_demographics,
    write_demographics,
)
from rostersync.pipeline._report import StageReport

STAGE = "attribute_mapping"


def attribute_mapping(tables: Roster, config: SourceConfig) -> tuple[Roster, StageReport]:
    """Fill canonical attributes from the configured source fields and transforms."""
    out = dict(tables)
    for etype, mapping in config.attribute_mapping.items():
        if not mapping:
            continue
        entity = fields.entity_of(etype)
        frame, rest = split_by_type(out[entity], etype)
        demo_cols: list[str] = []
        if entity == "users":
            wanted = set(mapping)
            for rule in mapping.values():
                wanted |= set(rule.referenced_fields())
            demo_cols = [c for c in fields.DEMOGRAPHIC_EXTRAS if c in wanted]
            frame = with_demographics(frame, out["demographics"], set(demo_cols))
        dtypes = fields.attribute_dtypes(etype)
        exprs = [
            compile_mapping(rule, dtypes[attr], frame.schema).alias(attr)
            for attr, rule in mapping.items()
        ]
        frame = frame.lazy().with_columns(exprs).collect()  # shared source fields read once
        if entity == "users" and demo_cols:
            out["demographics"] = write_demographics(frame, out["demographics"], demo_cols)
            frame = frame.drop(demo_cols)
        out[entity] = pl.concat([frame, rest]) if rest.height else frame
    return out, StageReport.build(STAGE, config.name, tables, out)
