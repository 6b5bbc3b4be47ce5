"""Reading one OneRoster CSV file into a typed table, columnar, with every problem placed.

Polars reads the text (all columns as strings); every check after that is a column expression
over the whole file — required cells, enumerations, dates, booleans, lists, sizes, duplicate
sourcedIds — so a 6-million-row enrollments file costs a few vectorised passes, not a Python
loop. Rows are numbered as a spreadsheet shows them: the header is row 1.

Tolerated and reported (notices): a UTF-8 BOM, CRLF line ends, columns out of the binding's
order, an optional column missing, unknown extra columns (kept as metadata), ``TRUE``/``FALSE``,
a date where a timestamp belongs, 1.0's ``inactive`` status. Everything else is a problem.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from rostersync.connectors.oneroster_csv._files import Column
from rostersync.connectors.oneroster_csv._report import ImportReport
from rostersync.model import TIMESTAMP

ROW = "__row"
#: Rows named per problem; the count says how many more share it.
ROWS_SHOWN = 5
_BOM = b"\xef\xbb\xbf"
_DATETIME_FORMATS = ("%Y-%m-%dT%H:%M:%S%.fZ", "%Y-%m-%dT%H:%M:%S%.f%:z")


@dataclass
class FileTable:
    """One file read: its typed columns (binding names), the extra columns, the row count."""

    name: str
    mode: str
    frame: pl.DataFrame
    extras: tuple[str, ...] = ()
    truncated: bool = False


def _rows(frame: pl.DataFrame, mask: pl.Expr) -> tuple[list[int], int]:
    hit = frame.select(pl.col(ROW).filter(mask)).to_series()
    return hit.head(ROWS_SHOWN).to_list(), hit.len()


def report_rows(
    report: ImportReport, file: str, column: str | None, rows: list[int], count: int, what: str
) -> None:
    if not count:
        return
    if count == 1:
        report.error(file, what, rows[0], column)
        return
    more = f" (and {count - len(rows)} more rows)" if count > len(rows) else ""
    shown = ", ".join(map(str, rows))
    report.error(file, f"{what} in rows {shown}{more}", None, column)


def _decode_error(raw: bytes) -> tuple[int, str] | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return raw.count(b"\n", 0, exc.start) + 1, raw[exc.start : exc.start + 1].hex()
    return None


def _line_shapes(raw: bytes) -> pl.DataFrame:
    """Per physical line: its number, separator count (a lower bound with quotes), quotes."""
    lines = pl.Series("line", [raw.decode("utf-8", errors="replace")]).str.split("\n").explode()
    return pl.DataFrame(
        {
            ROW: pl.int_range(1, lines.len() + 1, eager=True),
            "commas": lines.str.count_matches(",", literal=True),
            "quoted": lines.str.contains('"', literal=True),
            "blank": lines.str.strip_chars().str.len_bytes() == 0,
        }
    )


def _unfinished(raw: bytes, width: int, quotes: int) -> bool:
    """The file stops inside its last row: an open quote, or a last line (without a line end)
    holding fewer cells than the header."""
    if raw.endswith(b"\n"):
        return False
    if quotes % 2:
        return True
    tail = raw[raw.rfind(b"\n") + 1 :]
    return b'"' not in tail and tail.count(b",") < width - 1


def _structure(raw: bytes, file: str, width: int, height: int | None, report: ImportReport) -> bool:
    """Rows with too few or too many cells, unterminated quotes; True when the file was cut
    short (its last row unfinished)."""
    quotes = raw.count(b'"')
    if _unfinished(raw, width, quotes):
        return True
    if quotes % 2:
        report.error(file, "a quoted cell is never closed (an odd number of double quotes)")
        return False
    if height is not None and not quotes and raw.count(b",") == (width - 1) * (height + 1):
        return False  # no quotes, and exactly the header's cells on every line
    body = _line_shapes(raw).filter(pl.col(ROW) > 1, ~pl.col("blank"))
    # Where every physical line is a row, comma counts place short and long rows exactly.
    if height is None or body.height == height:
        short = body.filter(pl.col("commas") < width - 1)
        rows, count = short[ROW].head(ROWS_SHOWN).to_list(), short.height
        report_rows(report, file, None, rows, count, f"fewer than the header's {width} cells")
        long = body.filter(pl.col("commas") > width - 1, ~pl.col("quoted"))
        rows, count = long[ROW].head(ROWS_SHOWN).to_list(), long.height
        report_rows(report, file, None, rows, count, f"more than the header's {width} cells")
    return False


def read_text(raw: bytes, file: str, report: ImportReport) -> tuple[pl.DataFrame | None, bool]:
    """The file as text columns (and a row number), or None after reporting why not; and
    whether it was cut short."""
    if raw.startswith(_BOM):
        report.notice(file, "starts with a UTF-8 byte-order mark (ignored)")
        raw = raw[len(_BOM) :]
    if b"\r\n" in raw[:65536]:
        report.notice(file, "CRLF line ends (read as line ends)")
    header = raw.split(b"\n", 1)[0].rstrip(b"\r")
    if not header.strip():
        report.error(file, "no header row")
        return None, False
    try:
        # Polars checks the text is UTF-8; only a file that fails is decoded here to place it.
        frame = pl.read_csv(
            io.BytesIO(raw), infer_schema=False, raise_if_empty=False, truncate_ragged_lines=False
        )
    except pl.exceptions.PolarsError:
        bad = _decode_error(raw)
        if bad is not None:
            row, byte = bad
            report.error(
                file,
                f"not UTF-8 (byte 0x{byte}); save the file as UTF-8 (it may be latin-1 or "
                "Windows-1252)",
                row,
            )
            return None, False
        width = len(pl.read_csv(io.BytesIO(header + b"\n"), infer_schema=False).columns)
        if _structure(raw, file, width, None, report):
            return None, True
        if not any(p.file == file for p in report.problems):
            report.error(file, "not a CSV file the OneRoster binding allows (RFC 4180)")
        return None, False
    truncated = _structure(raw, file, frame.width, frame.height, report)
    return frame.with_columns(pl.int_range(2, frame.height + 2).alias(ROW)), truncated


def check_header(
    frame: pl.DataFrame, file: str, columns: Sequence[Column], report: ImportReport
) -> tuple[str, ...] | None:
    """The extra columns (kept as metadata), or None when a required column is missing."""
    names = [c for c in frame.columns if c != ROW]
    dupes = [c for c in names if "_duplicated_" in c]
    if dupes:
        report.error(file, "a header name appears twice: " + ", ".join(dupes), 1)
    known = [c.name for c in columns]
    missing_required = [c.name for c in columns if c.required is True and c.name not in names]
    for name in missing_required:
        report.error(file, "required column missing from the header", 1, name)
    for c in columns:
        if c.required is not True and c.name not in names:
            report.notice(file, "optional column missing (read as empty)", 1, c.name)
    present = [n for n in names if n in known]
    if present != [k for k in known if k in present]:
        report.notice(file, "columns are not in the binding's order (read by name)", 1)
    extras = tuple(n for n in names if n not in known and "_duplicated_" not in n)
    for name in extras:
        if not name.startswith("metadata."):
            report.notice(file, "unknown column kept as metadata", 1, name)
    return None if missing_required or dupes else extras


def _is_blank(name: str) -> pl.Expr:
    return pl.col(name).is_null() | (pl.col(name).str.strip_chars() == "")


def typed(
    frame: pl.DataFrame,
    file: str,
    mode: str,
    columns: Sequence[Column],
    max_field_bytes: int,
    report: ImportReport,
) -> pl.DataFrame:
    """Every binding column parsed to its type; each bad cell reported with row and column."""
    names = set(frame.columns)
    text = [c for c in frame.columns if c != ROW]
    # Empty text is no value: ``,,`` and ``,"",`` both read as null (a space is a value).
    frame = frame.with_columns(
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in text
    )
    sizes = frame.select(pl.col(c).str.len_bytes().max() for c in text).row(0)
    for c, size in zip(text, sizes, strict=True):
        if size is not None and size > max_field_bytes:
            rows, count = _rows(frame, pl.col(c).str.len_bytes() > max_field_bytes)
            big = f"a cell larger than {max_field_bytes // 1024} KiB"
            report_rows(report, file, c, rows, count, big)
    parsed: list[pl.Expr] = []
    checks: list[tuple[str, str]] = []
    for col in columns:
        if col.name not in names:
            parsed.append(pl.lit(None, dtype=_dtype(col)).alias(col.name))
            continue
        required = col.required is True or (col.required == "delta" and mode == "delta")
        if required:
            rows, count = _rows(frame, pl.col(col.name).is_null())
            report_rows(report, file, col.name, rows, count, "required value is empty")
        expr, what = _parse(frame, file, col, report)
        parsed.append(expr.alias(f"__typed_{col.name}"))
        if what:
            checks.append((col.name, what))
    out = frame.with_columns(parsed)
    for name, what in checks:
        bad = pl.col(name).is_not_null() & pl.col(f"__typed_{name}").is_null()
        rows, count = _rows(out, bad)
        if count:
            sample = out.filter(pl.col(ROW) == rows[0])[name][0]
            report_rows(report, file, name, rows, count, f"{sample!r} is not {what}")
    typed_names = [c.name for c in columns if c.name in names]
    return out.drop(typed_names).rename({f"__typed_{n}": n for n in typed_names})


def _dtype(col: Column) -> pl.DataType:
    return {
        "date": pl.Date(),
        "datetime": TIMESTAMP,
        "bool": pl.Boolean(),
        "list": pl.List(pl.Utf8()),
        "userIds": pl.List(pl.Utf8()),
    }.get(col.kind, pl.Utf8())


def _any(frame: pl.DataFrame, expr: pl.Expr) -> bool:
    return bool(frame.select(expr.any()).item())


def _parse(
    frame: pl.DataFrame, file: str, col: Column, report: ImportReport
) -> tuple[pl.Expr, str | None]:
    """The column's typed expression and what a valid cell is (None: any text is valid)."""
    value = pl.col(col.name)
    if col.kind == "enum":
        allowed = list(col.values)
        if col.name == "status":
            inactive = value == "inactive"
            if _any(frame, inactive):
                report.notice(
                    file, "status 'inactive' (OneRoster 1.0) read as tobedeleted", None, col.name
                )
            value = pl.when(inactive).then(pl.lit("tobedeleted")).otherwise(value)
        by_case = {v.lower(): v for v in allowed}
        exact = value.is_in(allowed)
        folded = value.str.to_lowercase().replace_strict(by_case, default=None)
        if _any(frame, ~exact & value.is_not_null()) and _any(frame, ~exact & folded.is_not_null()):
            report.notice(
                file, "values in another letter case (read case-insensitively)", None, col.name
            )
        return pl.when(exact).then(value).otherwise(folded), "one of " + ", ".join(allowed)
    if col.kind == "date":
        return value.str.to_date("%Y-%m-%d", strict=False), "a date (YYYY-MM-DD)"
    if col.kind == "datetime":
        full = pl.coalesce(
            *(value.str.to_datetime(f, time_zone="UTC", strict=False) for f in _DATETIME_FORMATS)
        ).cast(TIMESTAMP)
        day = (
            value.str.to_date("%Y-%m-%d", strict=False)
            .cast(pl.Datetime("us"))
            .dt.replace_time_zone("UTC")
        )
        if _any(frame, full.is_null() & day.is_not_null()):
            report.notice(
                file, "a date where a UTC timestamp belongs (read as midnight UTC)", None, col.name
            )
        return pl.coalesce(full, day), "a UTC timestamp (e.g. 2024-05-01T18:25:43.511Z)"
    if col.kind == "bool":
        lower = value.str.to_lowercase()
        odd = value.is_in(["true", "false"]).not_()
        if _any(frame, odd & value.is_not_null()) and _any(
            frame, odd & lower.is_in(["true", "false"])
        ):
            report.notice(
                file, "booleans not in lowercase (read case-insensitively)", None, col.name
            )
        return pl.when(lower == "true").then(True).when(lower == "false").then(False), (
            "true or false"
        )
    if col.kind == "year":
        return pl.when(value.str.contains(r"^\d{4}$")).then(value), "a year (YYYY)"
    if col.kind == "list":
        return value.str.split(",").list.eval(pl.element().str.strip_chars()), None
    if col.kind == "userIds":
        ok = value.str.contains(r"^\s*\{[^{}]*\}(\s*,\s*\{[^{}]*\})*\s*$")
        ids = value.str.extract_all(r"\{[^{}]*\}").list.eval(pl.element().str.strip_chars("{}"))
        return pl.when(ok).then(ids), "a list of {type:identifier}"
    return value, None
