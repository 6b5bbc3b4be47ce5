"""Data requirements: per attribute, ``report`` a record that lacks it (keep and list it) or
``skip`` it (drop and list it).

Missing means null, blank text or an empty list. A record missing several required attributes
is listed once per attribute, so the admin sees everything to fix in the SIS at once.
"""

from __future__ import annotations

import polars as pl

from rostersync.config import SourceConfig, fields
from rostersync.model import Roster
from rostersync.pipeline._exprs import attribute, is_empty, split_by_type, with_demographics
from rostersync.pipeline._report import StageReport, entries

STAGE = "data_requirements"


def data_requirements(tables: Roster, config: SourceConfig) -> tuple[Roster, StageReport]:
    """Report or skip records missing a required attribute."""
    out = dict(tables)
    parts: list[pl.DataFrame] = []
    for etype, reqs in config.data_requirements.items():
        if not reqs:
            continue
        entity = fields.entity_of(etype)
        base, rest = split_by_type(out[entity], etype)
        view = base
        if entity == "users":
            view = with_demographics(base, out["demographics"], set(reqs))
        dtypes = fields.attribute_dtypes(etype)
        missing = {attr: is_empty(attribute(attr, view.schema), dtypes.get(attr)) for attr in reqs}
        flags = view.select("sourcedId", *[m.alias(f"__missing_{a}") for a, m in missing.items()])
        skip_attrs = [a for a, r in reqs.items() if r == "skip"]
        skip = (
            pl.any_horizontal([pl.col(f"__missing_{a}") for a in skip_attrs])
            if skip_attrs
            else pl.lit(False)
        )
        flagged = view.with_columns(flags.drop("sourcedId")).with_columns(skip.alias("__skip"))
        for attr, kind in reqs.items():
            hit = pl.col(f"__missing_{attr}")
            if kind == "report":
                hit = hit & ~pl.col("__skip")
            parts.append(
                entries(
                    flagged.filter(hit),
                    stage=STAGE,
                    entity=entity,
                    action="skipped" if kind == "skip" else "reported",
                    reason=f"missing {attr}",
                )
            )
        if flagged["__skip"].any():  # an untouched table keeps its row order
            kept = base.filter(~flagged["__skip"])
            out[entity] = pl.concat([kept, rest]) if rest.height else kept
    return out, StageReport.build(STAGE, config.name, tables, out, parts)
