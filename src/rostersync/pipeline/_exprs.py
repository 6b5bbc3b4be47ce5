"""Polars expressions from configuration: attributes, conditions and mapping transforms.

Rules are compiled into expressions over whole tables; nothing a rule says is evaluated as code.
A missing value never satisfies a comparison (``null`` counts as false), so a rule that tests an
absent attribute neither includes nor excludes by accident.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import polars as pl

from rostersync.config import Condition, MappingRule, fields, format_parts
from rostersync.model import DEMOGRAPHICS, ENTITY_TYPES

TEXT = pl.Utf8()


def isin(expr: pl.Expr, values: pl.Series | list[Any]) -> pl.Expr:
    """``expr`` is one of ``values`` (a column of IDs, typically)."""
    series = values if isinstance(values, pl.Series) else pl.Series(values, dtype=TEXT)
    return expr.is_in(series.implode())


def metadata_value(key: str) -> pl.Expr:
    """The value of a metadata key as text (null when absent)."""
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return pl.col("metadata").str.json_path_match(f"$['{escaped}']")


def attribute(name: str, schema: pl.Schema) -> pl.Expr:
    """A configured attribute or source field: its column, else its metadata value."""
    if fields.is_metadata_attribute(name):
        return metadata_value(fields.metadata_key(name))
    if name in schema:
        return pl.col(name)
    return metadata_value(name)


def rows_of_type(frame: pl.DataFrame, etype: str) -> pl.DataFrame:
    """The rows of an entity type (people types share ``users``)."""
    roles = ENTITY_TYPES[etype].roles
    return frame if roles is None else frame.filter(pl.col("role").is_in(list(roles)))


def split_by_type(frame: pl.DataFrame, etype: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows of an entity type and the other rows (people types share ``users``)."""
    roles = ENTITY_TYPES[etype].roles
    if roles is None:
        return frame, frame.clear()
    mask = pl.col("role").is_in(list(roles))
    return frame.filter(mask), frame.filter(~mask)


def is_empty(expr: pl.Expr, dtype: pl.DataType | None) -> pl.Expr:
    """Null, blank text or an empty list."""
    if isinstance(dtype, pl.List):
        return expr.is_null() | (expr.list.len() == 0)
    if dtype is None or dtype == TEXT:
        return expr.is_null() | (expr.cast(TEXT).str.strip_chars() == "")
    return expr.is_null()


def with_demographics(
    users: pl.DataFrame, demographics: pl.DataFrame, cols: set[str]
) -> pl.DataFrame:
    """``users`` with the demographic columns ``cols`` joined on sourcedId (a people view)."""
    extra = [c for c in fields.DEMOGRAPHIC_EXTRAS if c in cols]
    if not extra:
        return users
    demo = demographics.select("sourcedId", *extra).unique("sourcedId", keep="first")
    return users.join(demo, on="sourcedId", how="left", maintain_order="left")


def write_demographics(
    view: pl.DataFrame, demographics: pl.DataFrame, cols: list[str]
) -> pl.DataFrame:
    """Demographics updated with the people view's values of ``cols`` (new rows as needed)."""
    if not cols:
        return demographics
    values = view.select("sourcedId", *cols)
    kept = demographics.join(values, on="sourcedId", how="left", suffix="__new")
    kept = kept.with_columns(
        [pl.coalesce(pl.col(f"{c}__new"), pl.col(c)).alias(c) for c in cols]
    ).select(demographics.columns)
    has_value = pl.any_horizontal([pl.col(c).is_not_null() for c in cols])
    new = (
        view.filter(has_value)
        .join(demographics.select("sourcedId"), on="sourcedId", how="anti")
        .select("sourcedId", "status", "dateLastModified", "source", "sourceId", *cols)
    )
    if new.height:
        new = new.with_columns(
            [
                pl.lit(None, dtype=f.dtype).alias(f.name)
                for f in DEMOGRAPHICS.fields
                if f.name not in new.columns
            ]
        ).select(DEMOGRAPHICS.field_names)
        kept = pl.concat([kept, new], how="vertical_relaxed")
    return kept


# --- conditions --------------------------------------------------------------------------


def _literal(value: Any, dtype: pl.DataType) -> Any:
    if dtype == pl.Date() and not isinstance(value, date):
        return date.fromisoformat(str(value))
    if dtype == pl.Boolean():
        return bool(value)
    if dtype == TEXT and not isinstance(value, str):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return value


def _scalar(expr: pl.Expr, op: str, value: Any, dtype: pl.DataType) -> pl.Expr:
    numeric = dtype == TEXT and isinstance(value, int | float) and not isinstance(value, bool)
    ordered = ("greater_than", "less_than", "greater_or_equal", "less_or_equal", "between")
    if op in ordered and (
        numeric or (op == "between" and all(isinstance(v, int | float) for v in value))
    ):
        expr, dtype = expr.cast(pl.Float64, strict=False), pl.Float64()
    if op in ("in", "not_in"):
        lits = [_literal(v, dtype) for v in value]
        test = expr.is_in(pl.Series(lits, dtype=dtype).implode())
        return ~test if op == "not_in" else test
    if op == "between":
        lo, hi = (_literal(v, dtype) for v in value)
        return (expr >= pl.lit(lo, dtype=dtype)) & (expr <= pl.lit(hi, dtype=dtype))
    lit = pl.lit(_literal(value, dtype), dtype=dtype)
    match op:
        case "equals":
            return expr == lit
        case "not_equals":
            return expr != lit
        case "contains":
            return expr.str.contains(str(value), literal=True)
        case "starts_with":
            return expr.str.starts_with(str(value))
        case "ends_with":
            return expr.str.ends_with(str(value))
        case "matches":
            return expr.str.contains(str(value))
        case "greater_than":
            return expr > lit
        case "less_than":
            return expr < lit
        case "greater_or_equal":
            return expr >= lit
        case "less_or_equal":
            return expr <= lit
    raise ValueError(f"unknown operator {op}")  # validated before; unreachable


_NEGATED = {"not_equals": "equals", "not_in": "in"}


def compile_condition(cond: Condition, etype: str, schema: pl.Schema) -> pl.Expr:
    """A boolean expression (never null) for a validated condition on an entity type."""
    if cond.all is not None:
        return pl.all_horizontal([compile_condition(c, etype, schema) for c in cond.all])
    if cond.any is not None:
        return pl.any_horizontal([compile_condition(c, etype, schema) for c in cond.any])
    if cond.not_ is not None:
        return ~compile_condition(cond.not_, etype, schema)
    assert cond.attribute is not None
    assert cond.op is not None
    dtype = fields.attribute_dtype(etype, cond.attribute) or TEXT
    col = attribute(cond.attribute, schema)
    if cond.op in ("is_empty", "is_not_empty"):
        empty = is_empty(col, dtype)
        return empty if cond.op == "is_empty" else ~empty
    if isinstance(dtype, pl.List):
        inner = dtype.inner
        base = inner() if isinstance(inner, type) else inner
        assert isinstance(base, pl.DataType)
        positive = _NEGATED.get(cond.op, cond.op)
        found = col.list.eval(_scalar(pl.element(), positive, cond.value, base)).list.any()
        return (~found if positive != cond.op else found).fill_null(False)
    return _scalar(col, cond.op, cond.value, dtype).fill_null(False)


def condition_attributes(cond: Condition | None) -> set[str]:
    """Every attribute a condition reads."""
    if cond is None:
        return set()
    out = {cond.attribute} if cond.attribute else set()
    for child in (cond.all or []) + (cond.any or []):
        out |= condition_attributes(child)
    return out | condition_attributes(cond.not_)


# --- mapping transforms --------------------------------------------------------------------


def _group_count(pattern: str) -> int:
    try:
        return re.compile(pattern).groups
    except re.error:
        return 1 if re.search(r"\((?!\?)", pattern) else 0


def _as_text(expr: pl.Expr, kind: str) -> pl.Expr:
    if kind == "list":
        return expr.list.join(",")
    return expr.cast(TEXT)


def compile_mapping(rule: MappingRule, target: pl.DataType, schema: pl.Schema) -> pl.Expr:
    """The expression that computes a mapped attribute, cast to its canonical type."""
    if rule.field is not None:
        expr = attribute(rule.field, schema)
        dtype = schema.get(rule.field) if rule.field in schema else TEXT
        kind = _kind(dtype)
    else:
        expr = pl.lit(rule.constant)
        kind = "text" if isinstance(rule.constant, str) else "other"
    for t in rule.transforms:
        expr, kind = _transform(expr, kind, t.op, t.arg, schema)
    return _cast(expr, kind, target)


def _kind(dtype: pl.DataType | None) -> str:
    if isinstance(dtype, pl.List):
        return "list"
    if dtype == pl.Date():
        return "date"
    return "text" if dtype in (None, TEXT) else "other"


def _transform(
    expr: pl.Expr, kind: str, op: str, arg: Any, schema: pl.Schema
) -> tuple[pl.Expr, str]:
    text = _as_text(expr, kind)
    match op:
        case "trim":
            return text.str.strip_chars(), "text"
        case "lower":
            return text.str.to_lowercase(), "text"
        case "upper":
            return text.str.to_uppercase(), "text"
        case "title":
            return text.str.to_titlecase(), "text"
        case "replace":
            return text.str.replace_all(str(arg["old"]), str(arg["new"]), literal=True), "text"
        case "regex_replace":
            return text.str.replace_all(str(arg["pattern"]), str(arg["new"])), "text"
        case "regex_extract":
            group = 1 if _group_count(str(arg)) else 0
            return text.str.extract(str(arg), group), "text"
        case "concat":
            others = [attribute(str(f), schema).cast(TEXT) for f in arg["fields"]]
            sep = str(arg.get("separator", " "))
            return pl.concat_str([text, *others], separator=sep, ignore_nulls=True), "text"
        case "format":
            parts = [
                (text if name == "value" else attribute(name, schema).cast(TEXT))
                if is_field
                else pl.lit(name)
                for is_field, name in format_parts(str(arg))
            ]
            return pl.concat_str(parts), "text"
        case "date_parse":
            return text.str.to_date(str(arg), strict=False), "date"
        case "date_format":
            as_date = expr if kind == "date" else text.str.to_date(strict=False)
            return as_date.dt.to_string(str(arg)), "text"
        case "value_map":
            old = [str(k) for k in arg]
            new = [None if v is None else str(v) for v in arg.values()]
            return text.replace(old, pl.Series(new, dtype=TEXT)), "text"
        case "default":
            empty = is_empty(expr, pl.List(TEXT) if kind == "list" else None)
            if kind == "list":
                value = pl.lit(pl.Series([[str(arg)]], dtype=pl.List(TEXT)))
            else:
                value = pl.lit(str(arg) if kind == "text" else arg)
            return pl.when(empty).then(value).otherwise(expr), kind
        case "split":
            return text.str.split(str(arg)).list.eval(pl.element().str.strip_chars()), "list"
    raise ValueError(f"unknown transform {op}")  # validated before; unreachable


_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")


def _cast(expr: pl.Expr, kind: str, target: pl.DataType) -> pl.Expr:
    if isinstance(target, pl.List):
        if kind == "list":
            return expr.cast(target)
        text = expr.cast(TEXT)
        return pl.when(is_empty(text, TEXT)).then(None).otherwise(pl.concat_list([text]))
    if target == pl.Date():
        return expr.cast(TEXT).str.to_date(strict=False) if kind != "date" else expr
    if target == pl.Boolean() and kind == "text":
        low = expr.str.strip_chars().str.to_lowercase()
        return pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False)
    if kind == "list":
        return _as_text(expr, kind).cast(target)
    return expr.cast(target, strict=False)
