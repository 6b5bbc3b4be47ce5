"""PowerSchool's modified FIQL (`q=`): `==`, `!=`, `=gt=`, `=ge=`, `=lt=`, `=le=`, `;` AND,
`*` wildcards in string equality; OR (`,`) and value lists `(A,P)` only when enabled.

:func:`to_expr` turns a `q` string into a Polars filter over the served frame.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import polars as pl

_CLAUSE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*)(==|!=|=gt=|=ge=|=lt=|=le=)(.*)$", re.S)


class FiqlError(ValueError):
    """A `q` that cannot be read; `field` names the culprit when known."""

    def __init__(self, message: str, field: str = "q") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Target:
    """Where an API field lives: its column and an optional value translation."""

    column: str
    translate: Callable[[str], str] | None = None


def _split(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _value(raw: str, dtype: pl.DataType, field: str) -> object:
    if raw == "":
        raise FiqlError(f"empty value for {field}", field)
    try:
        if dtype.is_integer():
            number = int(raw)
            if not -(2**63) <= number < 2**63:
                raise FiqlError(f"number out of range for {field}: {raw[:20]}…", field)
            return number
        if dtype.is_float():
            return float(raw)
        if dtype == pl.Date:
            return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise FiqlError(f"invalid value {raw!r} for {field}", field) from exc
    return raw


def _clause(
    text: str,
    fields: Mapping[str, Target],
    schema: pl.Schema,
    value_lists: bool,
) -> pl.Expr:
    match = _CLAUSE.match(text.strip())
    if not match:
        raise FiqlError(f"cannot parse the search expression {text!r}")
    name, op, raw = match.groups()
    target = fields.get(name.lower())
    if target is None or target.column not in schema:
        raise FiqlError(f"unknown field {name!r} in q", name)
    col = pl.col(target.column)
    dtype = schema[target.column]
    if raw.startswith("(") and raw.endswith(")"):
        if not value_lists or op not in ("==", "!="):
            raise FiqlError(f"value lists are not supported in {text!r}", name)
        raws = [r.strip() for r in raw[1:-1].split(",")]
        values = [_value(target.translate(r) if target.translate else r, dtype, name) for r in raws]
        expr = col.is_in(values)
        return ~expr if op == "!=" else expr
    if target.translate:
        raw = target.translate(raw)
    if op in ("==", "!=") and dtype == pl.Utf8 and "*" in raw:
        pattern = "^" + ".*".join(re.escape(p) for p in raw.split("*")) + "$"
        expr = col.str.contains(pattern).fill_null(False)
        return ~expr if op == "!=" else expr
    value = pl.lit(_value(raw, dtype, name))
    if op == "==":
        return (col == value).fill_null(False)
    if op == "!=":
        return (col != value).fill_null(True)
    compare = {
        "=gt=": col > value,
        "=ge=": col >= value,
        "=lt=": col < value,
        "=le=": col <= value,
    }[op]
    return compare.fill_null(False)


def to_expr(
    q: str,
    fields: Mapping[str, Target],
    schema: pl.Schema,
    *,
    allow_or: bool = False,
    value_lists: bool = False,
) -> pl.Expr:
    """The filter of a `q` string (AND of `;` clauses; OR of `,` groups when allowed)."""
    q = q.strip()
    if not q:
        raise FiqlError("empty search expression")
    groups = _split(q, ",") if allow_or else [q]
    ors: list[pl.Expr] = []
    for group in groups:
        clauses = _split(group, ";")
        if any(not c.strip() for c in clauses):
            raise FiqlError(f"cannot parse the search expression {q!r}")
        ands = [_clause(c, fields, schema, value_lists) for c in clauses]
        expr = ands[0]
        for more in ands[1:]:
            expr = expr & more
        ors.append(expr)
    out = ors[0]
    for more in ors[1:]:
        out = out | more
    return out


def columns_of(q: str) -> list[str]:
    """The field names a `q` mentions (for access checks)."""
    names = []
    for group in _split(q, ","):
        for clause in _split(group, ";"):
            match = _CLAUSE.match(clause.strip())
            if match:
                names.append(match.group(1))
    return names
