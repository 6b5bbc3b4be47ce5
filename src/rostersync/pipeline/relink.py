"""Re-linking when IDs change: a record the source renumbered keeps its published sourcedId.

A re-import or a migration gives a school's students new SIS IDs overnight; matched by exact
ID, the next sync would read as a mass deletion plus a mass creation and break every downstream
app's history. Here, compared with the last published roster:

- **Candidates**: records of one entity type that disappeared (published, not in the new roster)
  and records that appeared (in the new roster, not published).
- **Keys**: ``relinking.keys`` of the type, by default its domain of uniqueness (people: first
  name + last name + email) — the attributes every source compares by. A pair's
  **confidence** is the share of keys equal and not empty on both records (values normalised as
  the domains compare them); pairs are found by joins on the key combinations the rule needs,
  never by comparing every record that disappeared with every one that appeared.
- **The rule**: a pair at or above ``relinking.min_confidence`` is re-linked when each of its
  records has no other pair as good. A tie on the keys goes to the pair whose records are equal
  but for their IDs (and username, often made from the SIS key); a tie that remains is
  reported, not guessed. Pairs an admin split (``apart``) are never re-linked.
- **Re-linked**: the new record takes the published sourcedId, references follow; then the link
  rows (enrollments, user–contact links) that pointed at the re-linked records and whose ID
  changed too take their published ID when they link the same things.
- **Contacts keyed by their student** (legacy PowerSchool contacts are ``contact-<student>-…``)
  change ID with a renumbered student: a contact of a re-linked student that disappeared and
  one of the same student that appeared are re-linked when equal on every contact key either
  of them has (the confidence counts only those keys).

Every re-link is a report row (action ``relinked``: the new ID, the kept ID, the confidence and
the equal keys) and a row of :attr:`Relinked.links`, which the sync keeps so the record keeps its
ID in later syncs, and which an admin can reverse (``rostersync matches unlink``).

Pure: the previous roster is read through :class:`PreviousRoster` (its IDs first, its records
only when something disappeared and something appeared).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Final

import polars as pl

from rostersync.config import DistrictConfig, fields
from rostersync.model import Roster
from rostersync.pipeline._exprs import isin
from rostersync.pipeline._followers import contacts_of_relinked, link_rows_follow
from rostersync.pipeline._previous import PreviousRoster
from rostersync.pipeline._refs import rename_records
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


def needed_equal(keys: int, min_confidence: float) -> int:
    """How many keys a pair must have equal to reach ``min_confidence``."""
    return max(1, math.ceil(keys * min_confidence - 1e-9))


def _pairs(gone: pl.DataFrame, new: pl.DataFrame, n: int, needed: int) -> pl.DataFrame:
    """(old, new, score, equal): every pair equal on at least ``needed`` keys, scored.

    Candidates come from one join per combination of ``needed`` keys (a pair that reaches the
    rule is equal on at least one of them), never from a cross product: joining on a single
    common first name would pair every renumbered Ana with every other.
    """
    cols = [f"__k{i}" for i in range(n)]
    blocks = [
        gone.select(pl.col("sourcedId").alias("old"), *combo)
        .drop_nulls(list(combo))
        .join(
            new.select(pl.col("sourcedId").alias("new"), *combo).drop_nulls(list(combo)),
            on=list(combo),
        )
        .select("old", "new")
        for combo in itertools.combinations(cols, needed)
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


#: Not compared by the tie-break: the IDs, what the store stamps, and the username (often made
#: from the SIS key, so it changes with it).
_NOT_CONTENT: Final = frozenset({"sourcedId", "sourceId", "dateLastModified", "source", "username"})


def _with_same_content(
    pairs: pl.DataFrame, before: pl.DataFrame, now: pl.DataFrame
) -> pl.DataFrame:
    """``pairs`` with ``__same``: whether the two records are equal but for their IDs."""
    cols = [c for c in now.columns if c not in _NOT_CONTENT]
    old = before.select(
        pl.col("sourcedId").alias("old"), before.select(cols).hash_rows().alias("__ho")
    )
    new = now.select(pl.col("sourcedId").alias("new"), now.select(cols).hash_rows().alias("__hn"))
    joined = pairs.join(old, on="old", how="left").join(new, on="new", how="left")
    return joined.with_columns(
        (pl.col("__ho") == pl.col("__hn")).fill_null(False).alias("__same")
    ).drop("__ho", "__hn")


def _choose(
    pairs: pl.DataFrame, attrs: list[str], etype: str, entity: str
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """The pairs to re-link (``old, new, score, __why``) among scored pairs, and the report
    rows: each record's best pair, when it is the other record's best too and has no tie. A
    tie on the keys is broken by the rest of the record: equal but for the IDs wins."""
    rank = pl.col("score") + pl.col("__same").cast(pl.Float64) / 1000
    best = pairs.with_columns(rank.alias("__rank")).filter(
        (pl.col("__rank") == pl.col("__rank").max().over("new"))
        & (pl.col("__rank") == pl.col("__rank").max().over("old"))
    )
    clear = (pl.len().over("new") == 1) & (pl.len().over("old") == 1)
    equal_names = pl.concat_str(
        [pl.when(pl.col(f"__eq{i}")).then(pl.lit(a)) for i, a in enumerate(attrs)],
        separator=", ",
        ignore_nulls=True,
    )
    best = best.with_columns(
        pl.format("confidence {} ({} equal)", pl.col("score").round(2), equal_names).alias("__why"),
        pl.lit(None, pl.Utf8).alias("source"),
    )
    chosen = best.filter(clear)
    parts = [
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
        ),
        entries(
            chosen.rename({"new": "sourcedId"}),
            stage=STAGE,
            entity=entity,
            action="relinked",
            reason=pl.concat_str(pl.lit("ID changed in the source: "), "__why"),
            detail=pl.col("old"),
        ),
    ]
    return chosen, [p.with_columns(pl.lit(etype).alias("entityType")) for p in parts]


def _without_apart(pairs: pl.DataFrame, apart: pl.DataFrame, entity: str) -> pl.DataFrame:
    split = apart.filter(pl.col("entity") == entity)
    pairs = pairs.join(split, left_on=["old", "new"], right_on=["a", "b"], how="anti")
    return pairs.join(split, left_on=["old", "new"], right_on=["b", "a"], how="anti")


def _apply(
    out: Roster,
    previous: PreviousRoster,
    chosen: pl.DataFrame,
    entity: str,
    parts: list[pl.DataFrame],
    links: list[pl.DataFrame],
) -> Roster:
    """Rename the chosen records back, let their link rows follow, note the links."""
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
    out, link_parts, link_rows = link_rows_follow(out, previous, entity, chosen["old"], STAGE)
    parts.extend(link_parts)
    links.extend(link_rows)
    return out


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
    keys = relink_keys(config)
    for etype, attrs in keys.items():
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
        needed = needed_equal(len(attrs), config.relinking.min_confidence)
        pairs = _pairs(gone, new, len(attrs), needed).filter(pl.col("score") >= minimum)
        pairs = _with_same_content(_without_apart(pairs, split, entity), before[entity], appeared)
        chosen, found = _choose(pairs, attrs, etype, entity)
        parts.extend(found)
        if chosen.height == 0:
            continue
        out = _apply(out, previous, chosen, entity, parts, links)
        if etype == "student" and "contact" in keys:
            pairs = contacts_of_relinked(out, before, previous, chosen["old"], keys["contact"])
            if pairs.height:
                pairs = _without_apart(pairs.filter(pl.col("score") >= minimum), split, entity)
                pairs = _with_same_content(pairs, before[entity], out[entity])
                chosen, found = _choose(pairs, keys["contact"], "contact", entity)
                parts.extend(found)
                if chosen.height:
                    out = _apply(out, previous, chosen, entity, parts, links)
    report = StageReport.build(STAGE, None, candidate, out, parts)
    found_links = pl.concat([pl.DataFrame(schema=LINKS_SCHEMA), *links], how="vertical_relaxed")
    return Relinked(out, report, found_links)
