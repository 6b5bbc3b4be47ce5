"""Domains of Uniqueness: records equal on the domain are one record, never duplicates.

Per entity type, the domain's attributes are normalised into one key column — Unicode NFKD with
the combining marks removed (é → e), case folded, surrounding and repeated whitespace collapsed;
list attributes are compared as sorted sets — and records are grouped by the key, all columnar.

- **Survivor**: the record with the lowest sourcedId of its group (stable from run to run, and
  the same whichever order the rows arrive in).
- **What is merged into it**: each empty field of the survivor takes the first non-empty value
  of the others in sourcedId order; the ID lists (``agentSourcedIds``, ``orgSourcedIds``,
  ``termSourcedIds``, ``userIds``) become the union of the group's.
- **References follow**: enrollments, user–contact links and agents pointing at a merged record
  are rewritten to the survivor; link rows made equal by that keep their lowest sourcedId.
- A record with an empty attribute in the domain is never merged: two students without an email
  are not the same student because both lack one.

Records of different entity types (a teacher and a contact with the same name and email) are
never merged with each other. Every merge is reported: which ID became which.
"""

from __future__ import annotations

import polars as pl

from rostersync.config import SourceConfig, fields
from rostersync.model import Roster
from rostersync.pipeline._exprs import attribute, is_empty, isin, rows_of_type, with_demographics
from rostersync.pipeline._refs import LINK_KEYS, dedupe_links, rewrite_ids
from rostersync.pipeline._report import StageReport, entries

STAGE = "uniqueness_domains"
_SEP = "\x1f"


def normalise(expr: pl.Expr) -> pl.Expr:
    """Text as compared by a domain: no accents, case-folded, single inner spaces."""
    return (
        expr.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all("ß", "ss", literal=True)  # the one common case lowercasing misses
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .replace("", None)
    )


def key_part(expr: pl.Expr, dtype: pl.DataType | None) -> pl.Expr:
    """One attribute's contribution to the domain key (null when empty)."""
    if isinstance(dtype, pl.List):
        joined = expr.list.eval(normalise(pl.element().cast(pl.Utf8))).list.drop_nulls()
        return joined.list.sort().list.join("|").replace("", None)
    if dtype is None or dtype == pl.Utf8():
        return normalise(expr)
    return expr.cast(pl.Utf8)


def key_column(frame: pl.DataFrame, column: str, dtype: pl.DataType | None) -> pl.DataFrame:
    """``frame`` with ``column`` replaced by its key part.

    Names repeat a lot (a district has far fewer distinct first names than students), so a
    text column with few distinct values is normalised once per distinct value and joined back.
    """
    is_text = dtype is None or dtype == pl.Utf8()
    if is_text:
        distinct = frame.get_column(column).unique()
        if distinct.len() * 4 < frame.height:
            lookup = distinct.to_frame().with_columns(normalise(pl.col(column)).alias("__norm"))
            joined = frame.join(
                lookup, on=column, how="left", nulls_equal=True, maintain_order="left"
            )
            return joined.drop(column).rename({"__norm": column})
    return frame.with_columns(key_part(pl.col(column), dtype).alias(column))


def _union_column(name: str, dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.List) and (name.endswith("SourcedIds") or name == "userIds")


def merge_group_rows(rows: pl.DataFrame, group: str) -> pl.DataFrame:
    """One row per ``group``: first non-empty value per column in row order, ID lists unioned."""
    cleaned = rows.with_columns(
        [
            pl.when(is_empty(pl.col(c), dtype)).then(None).otherwise(pl.col(c)).alias(c)
            for c, dtype in rows.schema.items()
            if c != group and (dtype == pl.Utf8() or isinstance(dtype, pl.List))
        ]
    )
    aggs = []
    for c, dtype in rows.schema.items():
        if c == group:
            continue
        if _union_column(c, dtype):
            aggs.append(
                pl.col(c)
                .list.explode(keep_nulls=False, empty_as_null=False)
                .drop_nulls()
                .unique(maintain_order=True)
            )
        else:
            aggs.append(pl.col(c).drop_nulls().first())
    return cleaned.group_by(group, maintain_order=True).agg(aggs)


def key_parts(tables: Roster, etype: str, attrs: list[str]) -> pl.DataFrame:
    """``sourcedId`` and ``__k0``, ``__k1``… : each domain attribute of every record of the
    type, normalised as the domain compares it (null when empty)."""
    entity = fields.entity_of(etype)
    base = tables[entity]
    key_cols = [f"__k{i}" for i in range(len(attrs))]
    cols = {"sourcedId", "metadata", *(a for a in attrs if a in base.schema)}
    if entity == "users":
        cols.add("role")
    view = rows_of_type(base.select([c for c in base.columns if c in cols]), etype)
    if view.height == 0:
        return pl.DataFrame(schema={"sourcedId": pl.Utf8, **dict.fromkeys(key_cols, pl.Utf8)})
    if entity == "users":
        view = with_demographics(view, tables["demographics"], set(attrs))
    dtypes = fields.attribute_dtypes(etype)
    keyed = view.select(
        "sourcedId",
        *[attribute(a, view.schema).alias(p) for a, p in zip(attrs, key_cols, strict=True)],
    )
    for attr, part in zip(attrs, key_cols, strict=True):
        keyed = key_column(keyed, part, dtypes.get(attr))
    return keyed


def domain_keys(tables: Roster, etype: str, attrs: list[str]) -> pl.DataFrame:
    """(sourcedId, __key) of every record of the type whose domain attributes are all given.

    The key is the normalised attributes joined; a record with an empty attribute in the domain
    has no key (it is never equal to another record on the domain).
    """
    key_cols = [f"__k{i}" for i in range(len(attrs))]
    keyed = key_parts(tables, etype, attrs)
    keyed = keyed.select("sourcedId", pl.concat_str(key_cols, separator=_SEP).alias("__key"))
    return keyed.filter(pl.col("__key").is_not_null())


def _find_duplicates(tables: Roster, etype: str, attrs: list[str]) -> pl.DataFrame:
    """(sourcedId, __survivor) of every record of the type that is in a group of duplicates."""
    keyed = domain_keys(tables, etype, attrs)
    return keyed.filter(pl.len().over("__key") > 1).select(
        "sourcedId", pl.col("sourcedId").min().over("__key").alias("__survivor")
    )


def _merge_entity(
    tables: Roster, entity: str, dups: pl.DataFrame, reasons: pl.DataFrame, source: str | None
) -> tuple[Roster, list[pl.DataFrame]]:
    """Replace each group of duplicates of ``entity`` by its survivor, references follow."""
    base = tables[entity]
    mapping = dups.filter(pl.col("sourcedId") != pl.col("__survivor")).select(
        pl.col("sourcedId").alias("old"), pl.col("__survivor").alias("new")
    )
    in_groups = isin(pl.col("sourcedId"), dups["sourcedId"])
    rows = base.filter(in_groups).join(dups, on="sourcedId").sort("sourcedId")
    merged = merge_group_rows(rows.drop("sourcedId"), "__survivor").rename(
        {"__survivor": "sourcedId"}
    )
    parts = [
        entries(
            rows.join(mapping, left_on="sourcedId", right_on="old").join(
                reasons, on="sourcedId", how="left"
            ),
            stage=STAGE,
            entity=entity,
            action="merged",
            reason=pl.col("__reason"),
            detail=pl.col("new"),
            source=source,
        )
    ]
    out = dict(tables)
    out[entity] = pl.concat([base.filter(~in_groups), merged.select(base.columns)])
    out = rewrite_ids(out, entity, mapping)
    if entity == "users":
        demo = out["demographics"]
        out["demographics"] = demo.filter(~isin(pl.col("sourcedId"), mapping["old"]))
    out, dropped = dedupe_links(out, entity, mapping["new"].unique())
    for table, extra in dropped.items():
        parts.append(
            entries(
                extra,
                stage=STAGE,
                entity=table,
                action="merged",
                reason=f"same {', '.join(LINK_KEYS[table])} as the kept link",
                detail=pl.col("__survivor"),
                source=source,
            )
        )
    return out, parts


def uniqueness_domains(tables: Roster, config: SourceConfig) -> tuple[Roster, StageReport]:
    """Merge records equal on their type's domain of uniqueness (see the module docstring).

    Duplicates are found type by type (the people types share ``users`` without overlapping),
    then each table is rewritten once.
    """
    found: dict[str, list[tuple[pl.DataFrame, str]]] = {}
    for etype, attrs in config.effective_domains().items():
        dups = _find_duplicates(tables, etype, attrs)
        if dups.height:
            found.setdefault(fields.entity_of(etype), []).append((dups, f"same {', '.join(attrs)}"))
    out = dict(tables)
    parts: list[pl.DataFrame] = []
    for entity, groups in found.items():
        dups = pl.concat([d for d, _ in groups])
        reasons = pl.concat(
            [d.select("sourcedId", pl.lit(why).alias("__reason")) for d, why in groups]
        )
        out, entity_parts = _merge_entity(out, entity, dups, reasons, config.name)
        parts.extend(entity_parts)
    return out, StageReport.build(STAGE, config.name, tables, out, parts)
