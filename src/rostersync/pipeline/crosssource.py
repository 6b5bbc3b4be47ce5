"""Domains of Uniqueness across sources: one person seen by two sources is one record.

A source with ``advanced.multiple_sources`` on says its records may describe the same people
(or courses, classes…) as another source's under other IDs — the directory accounts of the
SIS's students, say. Between such sources, records of one entity type equal on the type's
domain of uniqueness become one record; the master-field merge then decides each attribute.

- **The domain compared** is the attributes every such source has in its domain for the type
  (``email`` when the SIS compares first name + last name + email and the directory email
  alone). No common attribute, no matching for that type.
- **The ID that stays** is the record's of the source listed first in ``sources``; the order
  in which the rosters are given does not matter.
- **One record per source**: a group holding two records of one source is ambiguous (that
  source's own domain keeps them apart). It is reported and nothing in it is merged; so is a
  match whose kept ID the other source already uses for another record.
- References (enrollments, contacts, agents, demographics) follow the kept ID.
- **Kept apart**: two records an admin split (``rostersync matches unlink``) are never merged.

Sources without ``multiple_sources`` still merge with the others by equal sourcedId (see
:mod:`rostersync.pipeline.merge`). Pure and columnar: one key frame per type and source.
"""

from __future__ import annotations

import polars as pl

from rostersync.config import DistrictConfig, fields
from rostersync.model import ENTITIES, Roster
from rostersync.pipeline._exprs import isin
from rostersync.pipeline._refs import rename_records
from rostersync.pipeline._report import StageReport, entries
from rostersync.pipeline.uniqueness import domain_keys

STAGE = "cross_source_uniqueness"


def matching_sources(config: DistrictConfig, names: list[str] | None = None) -> list[str]:
    """The sources (in configuration order) whose records are matched with each other."""
    return [
        s.name
        for s in config.sources
        if s.advanced.multiple_sources
        and s.advanced.compare_by_uniqueness
        and (names is None or s.name in names)
    ]


def common_domains(config: DistrictConfig, names: list[str]) -> dict[str, list[str]]:
    """Per entity type, the domain attributes every matching source compares by."""
    taking = matching_sources(config, names)
    if len(taking) < 2:
        return {}
    domains = [config.source(n).effective_domains() for n in taking]
    out: dict[str, list[str]] = {}
    for etype, attrs in domains[0].items():
        common = [a for a in attrs if all(a in d.get(etype, []) for d in domains[1:])]
        if common:
            out[etype] = common
    return out


def _report(
    frame: pl.DataFrame,
    etype: str,
    entity: str,
    *,
    action: str,
    reason: str | pl.Expr,
    detail: pl.Expr | None = None,
) -> pl.DataFrame:
    rows = entries(frame, stage=STAGE, entity=entity, action=action, reason=reason, detail=detail)
    return rows.with_columns(pl.lit(etype).alias("entityType"))


def _apart(apart: pl.DataFrame | None, entity: str) -> pl.Expr:
    """Rows of ``matched`` (``sourcedId`` → ``new``) an admin keeps apart."""
    if apart is None:
        return pl.lit(False)
    split = apart.filter(pl.col("entity") == entity)
    pairs = pl.concat(
        [
            split.select(pl.col("a").alias("x"), pl.col("b").alias("y")),
            split.select(pl.col("b").alias("x"), pl.col("a").alias("y")),
        ]
    )
    keys = pairs.select(pl.concat_str("x", "y", separator="\x1f").alias("k"))["k"]
    return pl.concat_str("sourcedId", "new", separator="\x1f").is_in(keys.implode())


def match_across_sources(
    roster_by_source: dict[str, Roster],
    config: DistrictConfig,
    apart: pl.DataFrame | None = None,
) -> tuple[dict[str, Roster], StageReport]:
    """The sources' rosters with records equal on a common domain given one ID; pairs in
    ``apart`` (``entity, a, b``: an admin split them) are never merged."""
    order = [s.name for s in config.sources if s.name in roster_by_source]
    before = {n: pl.concat([roster_by_source[s][n] for s in order]) for n in ENTITIES}
    taking = matching_sources(config, order)
    out = dict(roster_by_source)
    parts: list[pl.DataFrame] = []
    for etype, attrs in common_domains(config, order).items():
        entity = fields.entity_of(etype)
        keyed = pl.concat(
            [
                domain_keys(out[s], etype, attrs).with_columns(
                    pl.lit(s).alias("source"), pl.lit(i, dtype=pl.Int32).alias("__rank")
                )
                for i, s in enumerate(taking)
            ]
        )
        grouped = keyed.filter(pl.col("source").n_unique().over("__key") > 1)
        if grouped.height == 0:
            continue
        one_each = pl.len().over("__key") == pl.col("source").n_unique().over("__key")
        domain = ", ".join(attrs)
        parts.append(
            _report(
                grouped.filter(~one_each),
                etype,
                entity,
                action="reported",
                reason=f"same {domain} as a record of another source, but several records of "
                "one source have it: not merged",
            )
        )
        matched = (
            grouped.filter(one_each)
            .sort("__rank", "sourcedId")
            .with_columns(
                pl.col("sourcedId").first().over("__key").alias("new"),
                pl.col("source").first().over("__key").alias("__to"),
            )
            .filter(pl.col("sourcedId") != pl.col("new"))
        )
        split = _apart(apart, entity)
        parts.append(
            _report(
                matched.filter(split),
                etype,
                entity,
                action="reported",
                reason=f"same {domain} as a record of another source, kept apart by an admin",
                detail=pl.col("new"),
            )
        )
        matched = matched.filter(~split)
        for name in taking:
            mapping = matched.filter(pl.col("source") == name)
            if mapping.height == 0:
                continue
            taken = isin(pl.col("new"), out[name][entity]["sourcedId"])
            parts.append(
                _report(
                    mapping.filter(taken),
                    etype,
                    entity,
                    action="reported",
                    reason=f"same {domain} as a record of another source whose ID this source "
                    "uses for another record: not merged",
                    detail=pl.col("new"),
                )
            )
            mapping = mapping.filter(~taken)
            parts.append(
                _report(
                    mapping,
                    etype,
                    entity,
                    action="merged",
                    reason=pl.concat_str(pl.lit(f"same {domain} as a record of source "), "__to"),
                    detail=pl.col("new"),
                )
            )
            out[name] = rename_records(
                out[name], entity, mapping.select(old="sourcedId", new="new")
            )
    after = {n: pl.concat([out[s][n] for s in order]) for n in ENTITIES}
    return out, StageReport.build(STAGE, None, before, after, parts)
