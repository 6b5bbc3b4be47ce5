"""Attributes mapping: per entity type, which source field (or constant, or transform) fills which
canonical attribute.

Mappings of one entity type are computed together from the extracted values, so a mapping reads
the source's field, not another mapping's result. A value that does not convert to the
attribute's type (a date that does not parse) becomes empty, which data requirements then report
or skip.
"""

from __future__ import annotations

import polars as pl

from rostersync.config import MappingRule, SourceConfig, fields
from rostersync.model import ENTITY_TYPES, Roster
from rostersync.pipeline._exprs import compile_mapping, with_demographics, write_demographics
from rostersync.pipeline._report import StageReport, entity_type_expr

STAGE = "attribute_mapping"


def _map_part(
    frame: pl.DataFrame, etype: str, mapping: dict[str, MappingRule], tables: Roster
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """The rows of one entity type mapped; for people also their updated demographics."""
    demo_cols: list[str] = []
    if fields.entity_of(etype) == "users":
        wanted = set(mapping)
        for rule in mapping.values():
            wanted |= set(rule.referenced_fields())
        demo_cols = [c for c in fields.DEMOGRAPHIC_EXTRAS if c in wanted]
        frame = with_demographics(frame, tables["demographics"], set(demo_cols))
    dtypes = fields.attribute_dtypes(etype)
    exprs = [
        compile_mapping(rule, dtypes[attr], frame.schema).alias(attr)
        for attr, rule in mapping.items()
    ]
    frame = frame.lazy().with_columns(exprs).collect()  # shared source fields read once
    if not demo_cols:
        return frame, None
    return frame.drop(demo_cols), write_demographics(frame, tables["demographics"], demo_cols)


def attribute_mapping(tables: Roster, config: SourceConfig) -> tuple[Roster, StageReport]:
    """Fill canonical attributes from the configured source fields and transforms."""
    out = dict(tables)
    people: dict[str, dict[str, MappingRule]] = {
        str(t): m for t, m in config.attribute_mapping.items() if m and ENTITY_TYPES[t].roles
    }
    for etype, mapping in config.attribute_mapping.items():
        if mapping and etype not in people:
            entity = fields.entity_of(etype)
            out[entity], _ = _map_part(out[entity], etype, mapping, out)
    if people:
        # one pass splits the people by type; each mapped type is mapped on its own rows
        users = out["users"].with_columns(entity_type_expr("users").alias("__type"))
        parts = users.partition_by("__type", as_dict=True, include_key=False)
        mapped: list[pl.DataFrame] = []
        for (etype,), part in parts.items():
            if etype in people:
                part, demographics = _map_part(part, str(etype), people[str(etype)], out)
                if demographics is not None:
                    out["demographics"] = demographics
            mapped.append(part)
        out["users"] = pl.concat(mapped) if mapped else out["users"]
    return out, StageReport.build(STAGE, config.name, tables, out)
