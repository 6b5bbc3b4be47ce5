"""Manual match and kept re-links: decisions about which records are one, applied every sync.

The sync keeps these decisions (``record_links``) and hands them over as one frame with the
columns ``entity`` (the canonical table), ``from_id``, ``to_id`` and ``kind``:

- ``relink``: an earlier sync re-linked the source's ``from_id`` to the published ``to_id``
  (:mod:`rostersync.pipeline.relink`); the record keeps being published as ``to_id``. Should the
  source send ``to_id`` itself again, the re-link no longer applies and that is reported.
- ``link``: an admin joined two records the rules missed: ``from_id`` is merged into ``to_id``
  (``to_id``'s values win, ``from_id`` fills what it leaves empty; references follow), or
  published as ``to_id`` when the source no longer sends ``to_id``.
- ``apart``: an admin split a wrong match: ``from_id`` and ``to_id`` are never re-linked.

Pure: the decisions come in as a frame, the roster and the report go out.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from rostersync.model import Roster
from rostersync.pipeline._exprs import isin
from rostersync.pipeline._refs import dedupe_links, rename_records, rewrite_ids
from rostersync.pipeline._report import StageReport, entries
from rostersync.pipeline.uniqueness import merge_group_rows

STAGE = "matches"

DECISIONS_SCHEMA: Final = pl.Schema(
    {"entity": pl.Utf8(), "from_id": pl.Utf8(), "to_id": pl.Utf8(), "kind": pl.Utf8()}
)
KINDS: Final = ("relink", "link", "apart")


def no_decisions() -> pl.DataFrame:
    return pl.DataFrame(schema=DECISIONS_SCHEMA)


def kept_apart(decisions: pl.DataFrame) -> pl.DataFrame:
    """(entity, a, b) of the pairs an admin split."""
    return decisions.filter(pl.col("kind") == "apart").select(
        "entity", pl.col("from_id").alias("a"), pl.col("to_id").alias("b")
    )


def _merge_into(tables: Roster, entity: str, merges: pl.DataFrame) -> Roster:
    """Each ``from_id`` record merged into its ``to_id`` record (``to_id`` first)."""
    base = tables[entity]
    mapping = merges.select(pl.col("from_id").alias("old"), pl.col("to_id").alias("new"))
    involved = pl.concat([mapping["old"], mapping["new"]]).unique()
    survivor = pl.col("sourcedId").replace(mapping["old"], mapping["new"]).alias("__survivor")
    rows = (
        base.filter(isin(pl.col("sourcedId"), involved))
        .with_columns(survivor, isin(pl.col("sourcedId"), mapping["old"]).alias("__from"))
        .sort("__from", "sourcedId")
        .drop("__from")
    )
    merged = merge_group_rows(rows.drop("sourcedId"), "__survivor").rename(
        {"__survivor": "sourcedId"}
    )
    out = dict(tables)
    out[entity] = pl.concat(
        [base.filter(~isin(pl.col("sourcedId"), involved)), merged.select(base.columns)]
    )
    out = rewrite_ids(out, entity, mapping)
    if entity == "users":
        demo = out["demographics"]
        out["demographics"] = demo.filter(~isin(pl.col("sourcedId"), mapping["old"]))
    out, _ = dedupe_links(out, entity, mapping["new"].unique())
    return out


def apply_matches(candidate: Roster, decisions: pl.DataFrame) -> tuple[Roster, StageReport]:
    """The candidate with every kept ``relink`` and ``link`` decision applied."""
    out = dict(candidate)
    parts: list[pl.DataFrame] = []
    joining = decisions.filter(pl.col("kind").is_in(["relink", "link"]))
    for (entity,), group in joining.partition_by("entity", as_dict=True).items():
        name = str(entity)
        if name not in out:
            continue
        ids = out[name]["sourcedId"]
        present = group.filter(isin(pl.col("from_id"), ids)).unique("from_id", keep="first")
        if present.height == 0:
            continue
        both = isin(pl.col("to_id"), ids)
        stale = present.filter(both & (pl.col("kind") == "relink"))
        renames = present.filter(~both)
        merges = present.filter(both & (pl.col("kind") == "link"))
        report = pl.col("from_id").alias("sourcedId")
        parts.append(
            entries(
                stale.select(report, "to_id", pl.lit(None, pl.Utf8).alias("source")),
                stage=STAGE,
                entity=name,
                action="reported",
                reason="re-link not applied: the source sends the kept ID again",
                detail=pl.col("to_id"),
            )
        )
        parts.append(
            entries(
                renames.select(report, "to_id", "kind", pl.lit(None, pl.Utf8).alias("source")),
                stage=STAGE,
                entity=name,
                action="relinked",
                reason=pl.when(pl.col("kind") == "link")
                .then(pl.lit("manual match: published under the ID it was matched to"))
                .otherwise(pl.lit("re-linked by an earlier sync (ID changed in the source)")),
                detail=pl.col("to_id"),
            )
        )
        parts.append(
            entries(
                merges.select(report, "to_id", pl.lit(None, pl.Utf8).alias("source")),
                stage=STAGE,
                entity=name,
                action="merged",
                reason="manual match",
                detail=pl.col("to_id"),
            )
        )
        out = rename_records(out, name, renames.select(old="from_id", new="to_id"))
        if merges.height:
            out = _merge_into(out, name, merges)
    return out, StageReport.build(STAGE, None, candidate, out, parts)
