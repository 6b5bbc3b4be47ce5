"""Master fields: with several sources, which source wins for which attribute.

The per-source rosters (each already prefixed and deduplicated) become one. Records are matched
across sources **by sourcedId after the SIS prefix**: two sources describe the same record when
they give it the same ID (e.g. Active Directory accounts keyed by the SIS student number, with
the same or no prefix); a prefix keeps two sources' records apart on purpose. Matching by the
uniqueness domain is the dedup stage's job within a source.

For a record several sources have, each attribute takes the first non-empty value in its
priority order: ``master_fields[entity][attribute]`` lists the sources that win, in order; sources
not listed, and attributes without an entry, follow the order of ``sources`` in the
configuration. A lower source therefore only fills what higher ones leave empty. The result does
not depend on the order in which the rosters are given, only on the configuration.
A key of ``master_fields`` may be a table (``users``) or an entity type (``student``), which
applies to its whole table; demographic attributes of people apply to ``demographics``.

Provenance: for every record several sources have, the report lists each attribute that has a
value with the source that won it (action ``won``, reason ``attribute NAME``) and why — the
preferred source's value, the preferred source's value over different ones, or a fallback
because the preferred source has none.
"""

from __future__ import annotations

import polars as pl

from rostersync.config import DistrictConfig, fields
from rostersync.errors import ConfigurationError
from rostersync.model import ENTITIES, ENTITY_TYPES, Roster
from rostersync.pipeline._exprs import is_empty
from rostersync.pipeline._report import StageReport, entries

STAGE = "master_fields"

#: Bookkeeping columns: not attributes anyone chooses a source for.
NOT_CHOSEN = frozenset({"sourcedId", "dateLastModified", "source", "sourceId"})


def priorities(config: DistrictConfig) -> dict[tuple[str, str], list[str]]:
    """(table, attribute) → sources in order of priority, from ``master_fields``."""
    out: dict[tuple[str, str], list[str]] = {}
    for key, attrs in config.master_fields.items():
        entity = fields.entity_of(key) if key in ENTITY_TYPES else key
        for attr, order in attrs.items():
            table = entity
            if entity == "users" and attr in fields.DEMOGRAPHIC_EXTRAS:
                table = "demographics"
            out[(table, attr)] = order
    return out


def _rank(order: list[str], default: list[str]) -> dict[str, int]:
    ranked = order + [s for s in default if s not in order]
    return {name: i for i, name in enumerate(ranked)}


def _provenance(multi: pl.DataFrame, entity: str, column: str, rank: pl.Expr) -> pl.DataFrame:
    """Report rows: which source won ``column`` of each record several sources have, and why.

    ``multi`` holds the rows of records in several sources (``__src``), empty values nulled.
    """
    keep = ["sourcedId", "__src", "role"] if "role" in multi.columns else ["sourcedId", "__src"]
    ranked = multi.select(*keep, pl.col(column).alias("__v"), rank.alias("__r")).with_columns(
        pl.col("__src").sort_by("__r").first().over("sourcedId").alias("__pref")
    )
    won = (
        ranked.filter(pl.col("__v").is_not_null())
        .with_columns(pl.col("__v").hash().n_unique().over("sourcedId").alias("__n"))
        .filter(pl.col("__r") == pl.col("__r").min().over("sourcedId"))
    )
    detail = (
        pl.when(pl.col("__src") != pl.col("__pref"))
        .then(pl.concat_str(pl.lit("fallback: source "), "__pref", pl.lit(" has no value")))
        .when(pl.col("__n") > 1)
        .then(pl.lit("preferred source; other sources differ"))
        .otherwise(pl.lit("preferred source; other sources agree or have no value"))
    )
    return entries(
        won.with_columns(pl.col("__src").alias("source")),
        stage=STAGE,
        entity=entity,
        action="won",
        reason=f"attribute {column}",
        detail=detail,
        source=None,
    )


def master_field_merge(
    roster_by_source: dict[str, Roster], config: DistrictConfig
) -> tuple[Roster, StageReport]:
    """One roster from several sources' rosters, attribute by attribute by priority."""
    default = [s.name for s in config.sources if s.name in roster_by_source]
    unknown = sorted(set(roster_by_source) - set(default))
    if unknown:
        raise ConfigurationError(
            f"data given for source(s) {', '.join(unknown)} that the configuration does not have",
            setting="sources",
        )
    before = {name: pl.concat([roster_by_source[s][name] for s in default]) for name in ENTITIES}
    if len(default) == 1:
        only = roster_by_source[default[0]]
        return dict(only), StageReport.build(STAGE, None, before, only)
    prio = priorities(config)
    out: Roster = {}
    parts: list[pl.DataFrame] = []
    for name in ENTITIES:
        having = [s for s in default if roster_by_source[s][name].height]
        if len(having) <= 1:  # nothing to merge: one source has this table, or none
            out[name] = roster_by_source[having[0] if having else default[0]][name]
            continue
        frames = [roster_by_source[s][name].with_columns(pl.lit(s).alias("__src")) for s in having]
        allrows = pl.concat(frames)
        shared = pl.len().over("sourcedId") > 1
        single = allrows.filter(~shared).drop("__src")
        multi = allrows.filter(shared)
        if multi.height == 0:
            out[name] = single
            continue
        schema = roster_by_source[default[0]][name].schema
        rank_default = pl.col("__src").replace_strict(_rank([], default), return_dtype=pl.Int32)
        multi = multi.with_columns(
            [
                pl.when(is_empty(pl.col(c), dtype)).then(None).otherwise(pl.col(c)).alias(c)
                for c, dtype in schema.items()
                if c != "sourcedId" and (dtype == pl.Utf8() or isinstance(dtype, pl.List))
            ]
        )
        aggs = []
        for c in schema:
            if c == "sourcedId":
                continue
            order = prio.get((name, c))
            rank = (
                pl.col("__src").replace_strict(_rank(order, default), return_dtype=pl.Int32)
                if order
                else rank_default
            )
            aggs.append(pl.col(c).sort_by(rank).drop_nulls().first())
            if c not in NOT_CHOSEN:
                parts.append(_provenance(multi, name, c, rank))
        merged = multi.group_by("sourcedId", maintain_order=True).agg(aggs)
        winner = multi.with_columns(rank_default.alias("__rank")).with_columns(
            (pl.col("__rank") == pl.col("__rank").min().over("sourcedId")).alias("__win")
        )
        losers = winner.filter(~pl.col("__win"))
        winners = winner.filter(pl.col("__win")).select("sourcedId", pl.col("__src").alias("__to"))
        parts.append(
            entries(
                losers.with_columns(pl.col("__src").alias("source")).join(winners, on="sourcedId"),
                stage=STAGE,
                entity=name,
                action="merged",
                reason="same sourcedId in several sources",
                detail=pl.concat_str(pl.lit("merged with source "), pl.col("__to")),
                source=None,
            )
        )
        out[name] = pl.concat([single, merged.select(schema.names())])
    return out, StageReport.build(STAGE, None, before, out, parts)
