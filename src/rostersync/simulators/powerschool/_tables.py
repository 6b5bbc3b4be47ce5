"""The schema table API (`/ws/schema/table`): projection, `q`, paging, count, single rows, metadata.

Every column value is a string and nulls are ``""``; records are always an array; the plugin's
``<access_request>`` decides which columns may be read.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from . import _fiql
from ._http import HttpError

#: Generator bookkeeping columns that are not part of the PowerSchool table.
HIDDEN: dict[str, frozenset[str]] = {"students": frozenset({"family"})}


def columns(table: str, frame: pl.DataFrame) -> list[str]:
    """The served columns of a table."""
    hidden = HIDDEN.get(table, frozenset())
    return [c for c in frame.columns if c not in hidden]


def primary_key(frame: pl.DataFrame) -> str:
    """The row key of a table: `id` when it has one, else its first column."""
    return "id" if "id" in frame.columns else frame.columns[0]


def as_strings(frame: pl.DataFrame) -> pl.DataFrame:
    """Every value as text, nulls as "" (the table API's record shape)."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.Date:
            expr = col.dt.strftime("%Y-%m-%d")
        elif dtype.is_float():
            expr = (
                pl.when(col == col.round(0))
                .then(col.cast(pl.Int64).cast(pl.Utf8))
                .otherwise(col.cast(pl.Utf8))
            )
        elif dtype == pl.Boolean:
            expr = col.cast(pl.Int8).cast(pl.Utf8)
        else:
            expr = col.cast(pl.Utf8)
        exprs.append(expr.fill_null("").alias(name))
    return frame.select(exprs)


def denied_error(table: str, cols: list[str]) -> HttpError:
    return HttpError(
        403,
        "At least one column lacks sufficient permission",
        [
            {"resource": table, "field": f"{table}.{c}", "code": "No access to the field"}
            for c in cols
        ],
    )


def projection(table: str, frame: pl.DataFrame, raw: str | None) -> list[str]:
    """The requested columns (`*` or a comma list), or 400 for unknown ones."""
    available = columns(table, frame)
    if raw is None or raw.strip() in ("", "*"):
        return available
    wanted = [c.strip().lower() for c in raw.split(",") if c.strip()]
    if "*" in wanted:
        return available
    unknown = [c for c in wanted if c not in available]
    if unknown:
        raise HttpError(
            400,
            "Validation Failed",
            [
                {"resource": table, "field": f"{table}.{c}", "code": "Invalid column"}
                for c in unknown
            ],
        )
    return list(dict.fromkeys(wanted))


def filtered(table: str, frame: pl.DataFrame, q: str | None, *, allow_or: bool) -> pl.DataFrame:
    """The rows matching `q` (bare column names of the table)."""
    if not q:
        return frame
    fields = {c: _fiql.Target(c) for c in columns(table, frame)}
    try:
        return frame.filter(
            _fiql.to_expr(q, fields, frame.schema, allow_or=allow_or, value_lists=allow_or)
        )
    except _fiql.FiqlError as exc:
        raise HttpError(
            400, "Validation Failed", [{"resource": table, "field": exc.field, "code": str(exc)}]
        ) from None


def records(table: str, page: pl.DataFrame, cols: list[str]) -> list[dict[str, Any]]:
    """Records of one page: `{"id": key, "tables": {table: {col: "text"}}}`."""
    key = primary_key(page)
    keys = page[key].to_list()
    rows = as_strings(page.select(cols)).to_dicts()
    return [{"id": k, "tables": {table: r}} for k, r in zip(keys, rows, strict=True)]


def metadata(table: str, frame: pl.DataFrame, access: dict[str, str | None]) -> dict[str, Any]:
    """`/ws/schema/table/{t}/metadata`: name, primary key and columns (with their access)."""
    kinds = {pl.Utf8: "String", pl.Date: "Date", pl.Float64: "Double", pl.Boolean: "Boolean"}
    return {
        "name": table.upper(),
        "primaryKey": primary_key(frame),
        "columns": [
            {
                "name": c,
                "type": "Long"
                if frame.schema[c].is_integer()
                else kinds.get(frame.schema[c], "String"),  # type: ignore[call-overload]
                "access": access.get(c) or "NoAccess",
            }
            for c in columns(table, frame)
        ],
    }
