"""Contact name parsing: legacy single-string contact names split by the admin's rule.

With the contact module off, PowerSchool gives a guardian as one string ("Smith Jr, Mary Ann").
The connector keeps it in ``metadata["legacyContactName"]`` and leaves the name columns empty;
this stage splits it with ``advanced.contact_name_rule``:

- a suffix (Jr, Sr, II, III, IV) anywhere is taken out and appended to the family name;
- with a non-blank separator the string splits at the separator into the pattern's parts;
  a part for ``{first}`` gives the first word as givenName and the rest as middleName;
- with a blank separator the first and last words go to the pattern's first and last
  placeholders and the words between to the middle.

A name that does not split (a single word) goes whole into familyName and is reported; the final
validity stage then gives it the documented fallback (see :mod:`.validity`).
"""

from __future__ import annotations

import polars as pl

from rostersync.config import SourceConfig
from rostersync.model import CONTACT_ROLES, Roster
from rostersync.pipeline._exprs import metadata_value
from rostersync.pipeline._report import StageReport, entries

STAGE = "contact_name_parsing"
LEGACY_KEY = "legacyContactName"


def _clean(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"\s+", " ").str.strip_chars(" ,").replace("", None)


_SUFFIX = r"(?i)(?:^|[\s,])(jr|sr|ii|iii|iv)\.?(?:[\s,]|$)"
_SUFFIX_DROP = r"(?i)(?:^|[\s,])(?:jr|sr|ii|iii|iv)\.?([\s,]|$)"


def parse_names(frame: pl.DataFrame, raw: str, pattern: str, separator: str) -> pl.DataFrame:
    """``frame`` with givenName, middleName and familyName parsed from its column ``raw``.

    Computed in steps (each a ``with_columns``) so no intermediate is evaluated twice.
    """
    slots = pattern.split("{sep}")
    col = pl.col
    frame = frame.with_columns(
        col(raw).str.extract(_SUFFIX, 1).alias("__suffix"),
        col(raw)
        .str.replace(_SUFFIX_DROP, "$1")
        .str.replace_all(r"\s+", " ")
        .str.replace_all(r"\s*,\s*(,\s*)*", ", ")
        .str.strip_chars(" ,")
        .alias("__body"),
    )
    if separator.strip():
        parts = col("__body").str.splitn(separator, len(slots))
        frame = frame.with_columns(
            *[_clean(parts.struct.field(f"field_{i}")).alias(s) for i, s in enumerate(slots)]
        )
        words = col("{first}").str.splitn(" ", 2)
        frame = frame.with_columns(
            _clean(words.struct.field("field_0")).alias("__given"),
            _clean(words.struct.field("field_1")).alias("__middle"),
            col("{last}").alias("__family"),
        )
        if "{middle}" in slots:
            frame = frame.with_columns(
                _clean(
                    pl.concat_str(
                        [col("__middle"), col("{middle}")], separator=" ", ignore_nulls=True
                    )
                ).alias("__middle")
            )
        frame = frame.drop(slots)
    else:
        frame = frame.with_columns(col("__body").str.split(" ").alias("__words"))
        n = col("__words").list.len()
        ends = {slots[0]: col("__words").list.first(), slots[-1]: col("__words").list.last()}
        between = _clean(col("__words").list.slice(1, n - 2).list.join(" "))
        single = n < 2
        frame = frame.with_columns(
            pl.when(single).then(None).otherwise(ends.get("{first}", between)).alias("__given"),
            pl.when(single).then(None).otherwise(ends.get("{middle}", between)).alias("__middle"),
            pl.when(single)
            .then(ends[slots[0]])
            .otherwise(ends.get("{last}", between))
            .alias("__family"),
        ).drop("__words")
    frame = frame.with_columns(
        pl.concat_str([col("__family"), col("__suffix")], separator=" ", ignore_nulls=True)
    ).with_columns((col("__given").is_null() | col("__family").is_null()).alias("__unsplit"))
    return frame.with_columns(
        pl.when(col("__unsplit")).then(None).otherwise(col("__given")).alias("givenName"),
        col("__middle").alias("middleName"),
        pl.when(col("__unsplit"))
        .then(_clean(col(raw)))
        .otherwise(col("__family"))
        .alias("familyName"),
    ).drop("__suffix", "__body", "__given", "__middle", "__family", "__unsplit")


def contact_name_parsing(tables: Roster, config: SourceConfig) -> tuple[Roster, StageReport]:
    """Split legacy contact names into givenName / middleName / familyName."""
    users = tables["users"]
    if config.advanced.contact_module or users.height == 0:
        return tables, StageReport.build(STAGE, config.name, tables, tables)
    rule = config.advanced.contact_name_rule
    raw = metadata_value(LEGACY_KEY).str.strip_chars()
    flagged = users.with_columns(raw.alias("__raw")).with_columns(
        (
            pl.col("role").is_in(CONTACT_ROLES)
            & pl.col("givenName").is_null()
            & pl.col("familyName").is_null()
            & (pl.col("__raw") != "")
        )
        .fill_null(False)
        .alias("__todo")
    )
    todo = flagged.filter(pl.col("__todo"))
    parsed = parse_names(todo, "__raw", rule.pattern, rule.separator)
    failed = parsed.filter(pl.col("givenName").is_null())
    out = dict(tables)
    out["users"] = pl.concat([users.filter(~flagged["__todo"]), parsed.select(users.columns)])
    part = entries(
        failed,
        stage=STAGE,
        entity="users",
        action="reported",
        reason="legacy contact name does not split with contact_name_rule",
        detail=pl.col("__raw"),
    )
    return out, StageReport.build(STAGE, config.name, tables, out, [part])
