"""Contact name parsing: legacy single-string contact names split by the admin's rule.

With the contact module off, PowerSchool gives a guardian as one string ("Smith Jr, Mary Ann").
The connector keeps it in ``metadata["legacyContactName"]`` and leaves the name columns empty;
this stage splits it with ``advanced.contact_name_rule``:

- a suffix (Jr, Sr, II, III, IV) anywhere is taken out and appended to the family name;
- with a non-blank separator the string splits at the separator into the pattern's parts;
  a part for ``{first}`` gives the first word as givenName and the rest as middleName;
- with a blank separator the first and last words go to the pattern's first and last
  placeholders and the words between to the middle.

A name that does not split (a single word) goes whole into familyName and is reported.
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
    text = expr.str.replace_all(r"\s+", " ").str.strip_chars(" ,")
    return pl.when(text == "").then(None).otherwise(text)


def _first_rest(part: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    words = part.str.splitn(" ", 2)
    return _clean(words.struct.field("field_0")), _clean(words.struct.field("field_1"))


def split_names(raw: pl.Expr, pattern: str, separator: str) -> dict[str, pl.Expr]:
    """Expressions for givenName, middleName and familyName parsed from ``raw``."""
    slots = pattern.split("{sep}")
    suffix = raw.str.extract(r"(?i)(?:^|[\s,])(jr|sr|ii|iii|iv)\.?(?:[\s,]|$)", 1)
    body = raw.str.replace(r"(?i)(?:^|[\s,])(?:jr|sr|ii|iii|iv)\.?([\s,]|$)", "$1")
    body = (
        body.str.replace_all(r"\s+", " ")
        .str.replace_all(r"\s*,\s*(,\s*)*", ", ")
        .str.strip_chars(" ,")
    )
    given: pl.Expr
    middle: pl.Expr
    family: pl.Expr
    if separator.strip():
        parts = body.str.splitn(separator, len(slots))
        by_slot = {s: _clean(parts.struct.field(f"field_{i}")) for i, s in enumerate(slots)}
        given, middle = _first_rest(by_slot["{first}"])
        if "{middle}" in by_slot:
            middle = pl.concat_str([middle, by_slot["{middle}"]], separator=" ", ignore_nulls=True)
            middle = _clean(middle)
        family = by_slot["{last}"]
    else:
        words = body.str.split(" ")
        n = words.list.len()
        head, tail = words.list.first(), words.list.last()
        between = _clean(words.list.slice(1, n - 2).list.join(" "))
        ends = {slots[0]: head, slots[-1]: tail}
        given, family = ends.get("{first}", between), ends.get("{last}", between)
        middle = ends.get("{middle}", between)
        single = n < 2
        given = pl.when(single).then(None).otherwise(given)
        middle = pl.when(single).then(None).otherwise(middle)
        family = pl.when(single).then(head).otherwise(family)
    family = pl.concat_str([family, suffix], separator=" ", ignore_nulls=True)
    unsplit = given.is_null() | family.is_null()
    given_out = pl.when(unsplit).then(None).otherwise(given)
    family_out = pl.when(unsplit).then(_clean(raw)).otherwise(family)
    return {"givenName": given_out, "middleName": middle, "familyName": family_out}


def contact_name_parsing(tables: Roster, config: SourceConfig) -> tuple[Roster, StageReport]:
    """Split legacy contact names into givenName / middleName / familyName."""
    users = tables["users"]
    if config.advanced.contact_module or users.height == 0:
        return tables, StageReport.build(STAGE, config.name, tables, tables)
    rule = config.advanced.contact_name_rule
    raw = metadata_value(LEGACY_KEY).str.strip_chars()
    todo = (
        pl.col("role").is_in(CONTACT_ROLES)
        & pl.col("givenName").is_null()
        & pl.col("familyName").is_null()
        & raw.is_not_null()
        & (raw != "")
    )
    names = split_names(raw, rule.pattern, rule.separator)
    parsed = users.with_columns(
        todo.alias("__todo"),
        *[pl.when(todo).then(expr).otherwise(pl.col(c)).alias(c) for c, expr in names.items()],
    )
    failed = parsed.filter(pl.col("__todo") & pl.col("givenName").is_null())
    out = dict(tables)
    out["users"] = parsed.drop("__todo")
    part = entries(
        failed,
        stage=STAGE,
        entity="users",
        action="reported",
        reason="legacy contact name does not split with contact_name_rule",
        detail=raw,
    )
    return out, StageReport.build(STAGE, config.name, tables, out, [part])
