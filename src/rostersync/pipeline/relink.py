"""Re-linking when IDs change: a record the source renumbered keeps its published sourcedId.

A re-import or a migration gives a school's students new SIS IDs overnight; matched by exact
ID, the next sync would read as a mass deletion plus a mass creation and break every downstream
app's history. Here, compared with the last published roster:

- **Candidates**: records of one entity type that disappeared (published, not in the new roster)
  and records that appeared (in the new roster, not published).
- **Keys**: ``relinking.keys`` of the type, by default its domain of uniqueness (people: first
  name + last name + email) — the attributes every source compares by. A pair is considered
  when at least one key is equal; its **confidence** is the share of keys equal and not empty
  on both records (values normalised as the domains compare them).
- **The rule**: a pair at or above ``relinking.min_confidence`` is re-linked when each of its
  records has no other pair as good; ties are reported, not re-linked. Pairs an admin split
  (``apart``) are never re-linked.
- **Re-linked**: the new record takes the published sourcedId, references follow; then the link
  rows (enrollments, user–contact links) that pointed at the re-linked records and whose ID
  changed too take their published ID when they link the same things.

Every re-link is a report row (action ``relinked``: the new ID, the kept ID, the confidence and
the equal keys) and a row of :attr:`Relinked.links`, which the sync keeps so the record keeps its
ID in later syncs, and which an admin can reverse (``rostersync matches unlink``).

Pure: the previous roster is read through :class:`PreviousRoster` (its IDs first, its records
only when something disappeared and something appeared).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Protocol

import polars as pl

from rostersync.config import DistrictConfig, fields
from rostersync.model import Roster
from rostersync.pipeline._exprs import isin
from rostersync.pipeline._refs import LINK_KEYS, REFERENCES, rename_records
from rostersync.pipeline._report import StageReport, entries
from rostersync.pipeline.uniqueness import key_parts

STAGE = "relinking"

LINKS_SCHEMA: Final = pl.Schema(
    {
        "entity": pl.Utf8(),
        "from_id": pl.Utf8(),
        "to_id": pl.Utf8(),
        "confidence": pl.Float64(),
        "detail": pl.Utf8(),
    }
)
PAIRS_SCHEMA: Final = pl.Schema({"entity": pl.Utf8(), "a": pl.Utf8(), "b": pl.Utf8()})


class PreviousRoster(Protocol):
    """The last published roster, read only as far as needed."""

    def ids(self, entity: str) -> pl.Series:
        """The sourcedIds of a table."""
        ...

    def table(self, entity: str) -> pl.DataFrame:
        """A whole table."""
        ...


@dataclass
class PublishedRoster:
    """A :class:`PreviousRoster` over a roster in memory."""

    roster: Roster

    def ids(self, entity: str) -> pl.Series:
        return self.roster[entity]["sourcedId"]

    def table(self, entity: str) -> pl.DataFrame:
        return self.roster[entity]


@dataclass
class Relinked:
    """What :func:`relink` did: the roster, its report, the new links."""

    roster: Roster
    report: StageReport
    links: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=LINKS_SCHEMA))


def relink_keys(config: DistrictConfig) -> dict[str, list[str]]:
    """Per entity type, the keys compared: ``relinking.keys``, else the domain attributes every
    source has for the type."""
    domains = [s.domains() for s in config.sources]
    out: dict[str, list[str]] = {}
    for etype, attrs in domains[0].items():
        common = [a for a in attrs if all(a in d.get(etype, []) for d in domains[1:])]
        if common:
            out[etype] = common
    out.update({t: list(a) for t, a in config.relinking.keys.items()})
    return out


def _pairs(gone: pl.DataFrame, new: pl.DataFrame, n: int) -> pl.DataFrame:
    """(old, new, score, equal): every pair equal on at least one key, scored."""
    cols = [f"__k{i}" for i in range(n)]
    blocks = [
        gone.select(pl.col("sourcedId").alias("old"), c)
        .drop_nulls(c)
        .join(new.select(pl.col("sourcedId").alias("new"), c).drop_nulls(c), on=c)
        .select("old", "new")
        for c in cols
    ]
    pairs = pl.concat(blocks).unique()
    both = pairs.join(gone.rename({c: f"{c}o" for c in cols}), left_on="old", right_on="sourcedId")
    both = both.join(new, left_on="new", right_on="sourcedId")
    equal = [(pl.col(c) == pl.col(f"{c}o")).fill_null(False) for c in cols]
    return both.select(
        "old",
        "new",
        (pl.sum_horizontal([e.cast(pl.Int32) for e in equal]) / n).alias("score"),
        *[e.alias(f"__eq{i}") for i, e in enumerate(equal)],
    )


def _link_rows_follow(
    out: Roster, previous: PreviousRoster, entity: str, kept: pl.Series
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
                stage=STAGE,
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


def relink(
    candidate: Roster,
    previous: PreviousRoster | None,
    config: DistrictConfig,
    apart: pl.DataFrame | None = None,
) -> Relinked:
    """Give records the source renumbered their published sourcedId (see the module doc)."""
    if previous is None or not config.relinking.enabled:
        return Relinked(candidate, StageReport.build(STAGE, None, candidate, candidate))
    minimum = config.relinking.min_confidence - 1e-9
    out = dict(candidate)
    parts: list[pl.DataFrame] = []
    links: list[pl.DataFrame] = []
    split = apart if apart is not None else pl.DataFrame(schema=PAIRS_SCHEMA)
    for etype, attrs in relink_keys(config).items():
        entity = fields.entity_of(etype)
        published = previous.ids(entity)
        appeared = out[entity].filter(~isin(pl.col("sourcedId"), published))
        if appeared.height == 0 or published.len() == 0:
            continue
        ids_now = out[entity]["sourcedId"]
        if published.filter(~published.is_in(ids_now)).len() == 0:
            continue
        before = {entity: previous.table(entity)}
        if entity == "users":
            before["demographics"] = previous.table("demographics")
        disappeared = dict(before)
        disappeared[entity] = before[entity].filter(~isin(pl.col("sourcedId"), ids_now))
        new = key_parts({**out, entity: appeared}, etype, attrs)
        gone = key_parts(disappeared, etype, attrs)
        if new.height == 0 or gone.height == 0:
            continue
        pairs = _pairs(gone, new, len(attrs)).filter(pl.col("score") >= minimum)
        kept_apart = split.filter(pl.col("entity") == entity)
        pairs = pairs.join(kept_apart, left_on=["old", "new"], right_on=["a", "b"], how="anti")
        pairs = pairs.join(kept_apart, left_on=["old", "new"], right_on=["b", "a"], how="anti")
        best = pairs.filter(
            (pl.col("score") == pl.col("score").max().over("new"))
            & (pl.col("score") == pl.col("score").max().over("old"))
        )
        clear = (pl.len().over("new") == 1) & (pl.len().over("old") == 1)
        equal_names = pl.concat_str(
            [pl.when(pl.col(f"__eq{i}")).then(pl.lit(a)) for i, a in enumerate(attrs)],
            separator=", ",
            ignore_nulls=True,
        )
        best = best.with_columns(
            pl.format("confidence {} ({} equal)", pl.col("score").round(2), equal_names).alias(
                "__why"
            ),
            pl.lit(None, pl.Utf8).alias("source"),
        )
        chosen = best.filter(clear)
        parts.append(
            entries(
                best.filter(~clear).rename({"new": "sourcedId"}),
                stage=STAGE,
                entity=entity,
                action="reported",
                reason=pl.concat_str(
                    pl.lit("not re-linked: another record matches as well, "),
                    "__why",
                    pl.lit("; join them with `rostersync matches link` if they are one"),
                ),
                detail=pl.col("old"),
            ).with_columns(pl.lit(etype).alias("entityType"))
        )
        if chosen.height == 0:
            continue
        parts.append(
            entries(
                chosen.rename({"new": "sourcedId"}),
                stage=STAGE,
                entity=entity,
                action="relinked",
                reason=pl.concat_str(pl.lit("ID changed in the source: "), "__why"),
                detail=pl.col("old"),
            ).with_columns(pl.lit(etype).alias("entityType"))
        )
        links.append(
            chosen.select(
                pl.lit(entity).alias("entity"),
                pl.col("new").alias("from_id"),
                pl.col("old").alias("to_id"),
                pl.col("score").alias("confidence"),
                pl.col("__why").alias("detail"),
            )
        )
        out = rename_records(out, entity, chosen.select(old="new", new="old"))
        out, link_parts, link_rows = _link_rows_follow(out, previous, entity, chosen["old"])
        parts.extend(link_parts)
        links.extend(link_rows)
    report = StageReport.build(STAGE, None, candidate, out, parts)
    found = pl.concat([pl.DataFrame(schema=LINKS_SCHEMA), *links], how="vertical_relaxed")
    return Relinked(out, report, found)
