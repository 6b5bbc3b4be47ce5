"""OneRoster CSV export (1.1 and 1.2, bulk and delta) from a canonical roster, columnar.

Each canonical table becomes its CSV file with Polars expressions: dates as ``YYYY-MM-DD``,
timestamps as UTC ``…T…Z`` with milliseconds, booleans as lowercase ``true``/``false``, lists
as one comma-joined cell (quoted by the writer), ``userIds`` as ``{type:identifier}``. In 1.2,
users' role and orgs move to ``roles.csv`` (one row per user and org, sourcedId
``<user>/<org>``, each part with ``@`` as ``@40`` and ``/`` as ``@2F``: see
:mod:`rostersync.pipeline.ids`).

Bulk files leave ``status`` and ``dateLastModified`` blank and hold only active records. A delta
compares the file tables of the previous version with the current one (row hashes over the
published columns, joined on ``sourcedId``): changed and new rows are ``active`` with their
``dateLastModified``; rows gone since are ``tobedeleted``. Files without rows are ``absent``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from rostersync import fsutil
from rostersync.clock import utcnow
from rostersync.errors import ConfigurationError
from rostersync.export.oneroster.csv_headers import FILE_SETS, HEADERS
from rostersync.model import ENTITIES, TIMESTAMP
from rostersync.pipeline.ids import derived_id

Mode = Literal["bulk", "delta"]
SEX_1P1 = ("male", "female")
_STATUS = "__status"
_DLM = "__dlm"
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.3fZ"


@dataclass
class ExportResult:
    """What an export wrote: the output path, its mode, and row counts per file."""

    path: Path
    version: str
    mode: Mode
    files: dict[str, int] = field(default_factory=dict)


def _format(entity: str, column: str) -> pl.Expr:
    dtype = ENTITIES[entity].schema[column]
    col = pl.col(column)
    if dtype == pl.Date():
        return col.dt.strftime("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        return col.dt.convert_time_zone("UTC").dt.strftime(DATETIME_FORMAT)
    if dtype == pl.Boolean():
        return (
            pl.when(col.is_null())
            .then(None)
            .when(col)
            .then(pl.lit("true"))
            .otherwise(pl.lit("false"))
        )
    if isinstance(dtype, pl.List):
        joined = col.list.join(",")
        return pl.when(joined == "").then(None).otherwise(joined)
    return col.cast(pl.Utf8)


_RENAMES: dict[str, dict[str, str]] = {
    "users": {
        "preferredGivenName": "preferredFirstName",
        "preferredFamilyName": "preferredLastName",
    }
}


def _entity_file(
    entity: str, table: pl.DataFrame, headers: tuple[str, ...], version: str
) -> pl.DataFrame:
    """One canonical table → its CSV columns (all text) plus hidden status/date columns."""
    schema = ENTITIES[entity].schema
    if entity == "demographics" and version == "1.1":
        # 1.1 knows only male/female; 1.2's unspecified/other are left blank
        sex = pl.col("sex")
        table = table.with_columns(
            pl.when(sex.is_in(SEX_1P1)).then(sex).otherwise(None).alias("sex")
        )
    renames = _RENAMES.get(entity, {})
    exprs: list[pl.Expr] = []
    for header in headers[3:]:
        source = renames.get(header, header)
        if header == "userIds":
            joined = (
                pl.col("userIds")
                .list.eval(pl.lit("{") + pl.element().str.strip_chars("{}") + pl.lit("}"))
                .list.join(",")
            )
            exprs.append(pl.when(joined == "").then(None).otherwise(joined).alias(header))
        elif source in schema:
            exprs.append(_format(entity, source).alias(header))
        else:
            exprs.append(pl.lit(None, dtype=pl.Utf8).alias(header))
    return table.select(
        pl.col("sourcedId"),
        pl.lit(None, dtype=pl.Utf8).alias("status"),
        pl.lit(None, dtype=pl.Utf8).alias("dateLastModified"),
        *exprs,
        pl.col("status").alias(_STATUS),
        pl.col("dateLastModified").alias(_DLM),
    )


def _roles_file(users: pl.DataFrame) -> pl.DataFrame:
    """1.2 roles.csv: one row per user and org; the primary org (or the first) is ``primary``."""
    primary = pl.col("primaryOrgSourcedId")
    orgs = (
        pl.concat_list(primary, pl.col("orgSourcedIds").fill_null([]))
        .list.drop_nulls()
        .list.unique(maintain_order=True)
    )
    exploded = (
        users.select(
            "sourcedId",
            "role",
            "status",
            "dateLastModified",
            orgs.alias("org"),
            pl.coalesce(primary, pl.col("orgSourcedIds").list.first()).alias("primaryOrg"),
        )
        .explode("org")
        .drop_nulls("org")
    )
    return exploded.select(
        derived_id(pl.col("sourcedId"), pl.col("org")).alias("sourcedId"),
        pl.lit(None, dtype=pl.Utf8).alias("status"),
        pl.lit(None, dtype=pl.Utf8).alias("dateLastModified"),
        pl.col("sourcedId").alias("userSourcedId"),
        pl.when(pl.col("org") == pl.col("primaryOrg"))
        .then(pl.lit("primary"))
        .otherwise(pl.lit("secondary"))
        .alias("roleType"),
        pl.col("role").replace({"administrator": "siteAdministrator"}).alias("role"),
        pl.lit(None, dtype=pl.Utf8).alias("beginDate"),
        pl.lit(None, dtype=pl.Utf8).alias("endDate"),
        pl.col("org").alias("orgSourcedId"),
        pl.lit(None, dtype=pl.Utf8).alias("userProfileSourcedId"),
        pl.col("status").alias(_STATUS),
        pl.col("dateLastModified").alias(_DLM),
    )


def file_tables(roster: Mapping[str, pl.DataFrame], version: str) -> dict[str, pl.DataFrame]:
    """The CSV tables (text columns in header order, plus hidden columns) of a roster."""
    if version not in HEADERS:
        raise ConfigurationError(
            f"--version: unknown OneRoster version {version!r}",
            setting="--version",
            hint="use 1.1 or 1.2",
        )
    out: dict[str, pl.DataFrame] = {}
    for name, headers in HEADERS[version].items():
        if name == "roles":
            users = roster.get("users", ENTITIES["users"].empty())
            out[name] = _roles_file(users)
        else:
            table = roster.get(name, ENTITIES[name].empty())
            out[name] = _entity_file(name, table, headers, version)
    return out


def _bulk(table: pl.DataFrame) -> pl.DataFrame:
    active = table.filter(pl.col(_STATUS).fill_null("active") != "tobedeleted")
    return active.drop(_STATUS, _DLM)


def _delta(current: pl.DataFrame, previous: pl.DataFrame, now: dt.datetime) -> pl.DataFrame:
    content = [c for c in current.columns if c not in ("status", "dateLastModified", _STATUS, _DLM)]
    cur = current.with_columns(current.select(content).hash_rows().alias("__hash"))
    prev = previous.with_columns(previous.select(content).hash_rows().alias("__hash"))
    changed = cur.join(prev.select("sourcedId", "__hash"), on=["sourcedId", "__hash"], how="anti")
    gone = prev.join(cur.select("sourcedId"), on="sourcedId", how="anti")
    now_text = pl.lit(now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")
    changed = changed.with_columns(
        pl.col(_STATUS).fill_null("active").alias("status"),
        pl.coalesce(pl.col(_DLM).cast(TIMESTAMP).dt.strftime(DATETIME_FORMAT), now_text).alias(
            "dateLastModified"
        ),
    )
    gone = gone.with_columns(
        pl.lit("tobedeleted").alias("status"), now_text.alias("dateLastModified")
    )
    return pl.concat([changed, gone], how="vertical").drop(_STATUS, _DLM, "__hash")


def build_files(
    roster: Mapping[str, pl.DataFrame],
    version: str,
    *,
    previous: Mapping[str, pl.DataFrame] | None = None,
    now: dt.datetime | None = None,
) -> dict[str, pl.DataFrame]:
    """The data files of an export: bulk from ``roster``, or the delta since ``previous``."""
    current = file_tables(roster, version)
    if previous is None:
        files = {name: _bulk(t) for name, t in current.items()}
    else:
        before = file_tables(previous, version)
        stamp = now or utcnow()
        files = {name: _delta(t, before[name], stamp) for name, t in current.items()}
    return {name: t.sort("sourcedId") for name, t in files.items() if t.height}


def manifest_rows(
    version: str, files: Mapping[str, pl.DataFrame], mode: Mode, system_code: str | None = None
) -> list[tuple[str, str]]:
    rows = [("manifest.version", "1.0"), ("oneroster.version", version)]
    rows += [(f"file.{name}", mode if name in files else "absent") for name in FILE_SETS[version]]
    rows.append(("source.systemName", "rostersync"))
    if system_code:
        rows.append(("source.systemCode", system_code))
    return rows


def _csv_bytes(table: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    table.write_csv(buf, line_terminator="\r\n", quote_style="necessary")
    return buf.getvalue()


def _manifest_bytes(rows: list[tuple[str, str]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(("propertyName", "value"))
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


def write_package(
    out: Path,
    roster: Mapping[str, pl.DataFrame],
    version: str,
    *,
    previous: Mapping[str, pl.DataFrame] | None = None,
    now: dt.datetime | None = None,
    system_code: str | None = None,
) -> ExportResult:
    """Write a OneRoster CSV package to ``out``: a ``.zip`` file, or else a directory."""
    mode: Mode = "bulk" if previous is None else "delta"
    files = build_files(roster, version, previous=previous, now=now)
    payload = {f"{name}.csv": _csv_bytes(t) for name, t in files.items()}
    payload["manifest.csv"] = _manifest_bytes(manifest_rows(version, files, mode, system_code))
    try:
        # Exports hold pupils' data: files 0600, new directories 0700 (see rostersync.fsutil).
        if out.suffix.lower() == ".zip":
            fsutil.private_dir(out.parent, narrow=False)
            packed = io.BytesIO()
            with zipfile.ZipFile(packed, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for name, data in sorted(payload.items()):
                    zf.writestr(name, data)
            fsutil.atomic_write(out, packed.getvalue())
        else:
            fsutil.private_dir(out, narrow=False)
            for name, data in payload.items():
                fsutil.atomic_write(out / name, data)
    except OSError as exc:
        raise ConfigurationError(
            f"--out: cannot write the export to {out}: {exc.strerror or exc}",
            setting="--out",
            hint="choose a writable FILE.zip or directory",
        ) from exc
    return ExportResult(out, version, mode, {name: t.height for name, t in files.items()})
