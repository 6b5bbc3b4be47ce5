"""What follows a re-linked record: the link rows that point at it, and contacts keyed by it.

Part of re-linking (:mod:`rostersync.pipeline.relink`): once a renumbered record has its
published ID back, the enrollments and user–contact links whose own IDs changed with it take
theirs back when they link the same things, and the legacy contacts of a re-linked student
(keyed by the student) are paired with the contacts that disappeared from the same student.
"""

from __future__ import annotations

import polars as pl

from rostersync.model import Roster
from rostersync.pipeline._exprs import isin
from rostersync.pipeline._previous import PreviousRoster
from rostersync.pipeline._refs import LINK_KEYS, REFERENCES
from rostersync.pipeline._report import entries
from rostersync.pipeline.uniqueness import key_parts


def link_rows_follow(
    out: Roster, previous: PreviousRoster, entity: str, kept: pl.Series, stage: str
) -> tuple[Roster, list[pl.DataFrame], list[pl.DataFrame]]:
    """Link rows that point at re-linked records and whose own ID changed keep theirs."""
    parts: list[pl.DataFrame] = []
    links: list[pl.DataFrame] = []
    refs = {(t, c) for t, c in REFERENCES.get(entity, ())}
    for table, keys in LINK_KEYS.items():
        touched = [c for c in keys if (table, c) in refs]
        if not touched or out[table].height == 0:
            continue
        near = pl.any_horizontal([isin(pl.col(c), kept) for c in touched])
        fresh = out[table].filter(near & ~isin(pl.col("sourcedId"), previous.ids(table)))
        if fresh.height == 0:
            continue
        before = previous.table(table)
        gone = before.filter(near & ~isin(pl.col("sourcedId"), out[table]["sourcedId"]))
        pairs = fresh.select("sourcedId", *keys).join(
            gone.select(pl.col("sourcedId").alias("old"), *keys), on=list(keys), nulls_equal=True
        )
        pairs = pairs.filter(
            (pl.len().over("sourcedId") == 1) & (pl.len().over("old") == 1)
        ).select(pl.col("sourcedId").alias("new"), "old")
        if pairs.height == 0:
            continue
        mapping = pairs.select(old="new", new="old")
        out = dict(out)
        out[table] = out[table].with_columns(
            pl.col("sourcedId").replace(mapping["old"], mapping["new"])
        )
        reason = f"same {', '.join(keys)} as a published link of a re-linked record"
        parts.append(
            entries(
                pairs.rename({"new": "sourcedId"}).with_columns(pl.lit(None).alias("source")),
                stage=stage,
                entity=table,
                action="relinked",
                reason=reason,
                detail=pl.col("old"),
            )
        )
        links.append(
            pairs.select(
                pl.lit(table).alias("entity"),
                pl.col("new").alias("from_id"),
                pl.col("old").alias("to_id"),
                pl.lit(1.0).alias("confidence"),
                pl.lit(reason).alias("detail"),
            )
        )
    return out, parts, links


def contacts_of_relinked(
    out: Roster, before: Roster, previous: PreviousRoster, kept: pl.Series, attrs: list[str]
) -> pl.DataFrame:
    """Scored pairs (old, new) of contacts of re-linked students whose IDs changed with the
    student's (legacy contacts are keyed by the student): the same student, and equal on
    every key either of them has."""
    links_now = out["userContacts"].filter(isin(pl.col("studentSourcedId"), kept))
    if links_now.height == 0:
        return pl.DataFrame()
    links_then = previous.table("userContacts").filter(isin(pl.col("studentSourcedId"), kept))
    now_ids = out["users"]["sourcedId"]
    appeared = links_now.filter(~isin(pl.col("contactSourcedId"), previous.ids("users")))
    gone = links_then.filter(~isin(pl.col("contactSourcedId"), now_ids))
    anchored = (
        gone.select("studentSourcedId", pl.col("contactSourcedId").alias("old"))
        .join(
            appeared.select("studentSourcedId", pl.col("contactSourcedId").alias("new")),
            on="studentSourcedId",
        )
        .select("old", "new")
        .unique()
    )
    if anchored.height == 0:
        return pl.DataFrame()
    cols = [f"__k{i}" for i in range(len(attrs))]
    old_keys = key_parts(before, "contact", attrs).rename({c: f"{c}o" for c in cols})
    new_keys = key_parts(out, "contact", attrs)
    both = anchored.join(old_keys, left_on="old", right_on="sourcedId").join(
        new_keys, left_on="new", right_on="sourcedId"
    )
    equal = [(pl.col(c) == pl.col(f"{c}o")).fill_null(False) for c in cols]
    given = [pl.col(c).is_not_null() | pl.col(f"{c}o").is_not_null() for c in cols]
    n_given = pl.sum_horizontal([g.cast(pl.Int32) for g in given])
    return both.select(
        "old",
        "new",
        pl.when(n_given > 0)
        .then(pl.sum_horizontal([e.cast(pl.Int32) for e in equal]) / n_given)
        .otherwise(0.0)
        .alias("score"),
        *[e.alias(f"__eq{i}") for i, e in enumerate(equal)],
    )
