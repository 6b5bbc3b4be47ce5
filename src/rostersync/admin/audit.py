"""Reading the audit log: filtered by district and time, scoped to the caller, as rows or CSV.

The log itself is append-only: the store appends (``Store.audit``) and the database refuses
updates and deletes (triggers of migration ``0015_management_plane``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa

from rostersync.admin import authz
from rostersync.admin.accounts import Account
from rostersync.clock import as_utc
from rostersync.errors import ConfigurationError
from rostersync.store import AuditEntry, Store
from rostersync.store.engine import translate_errors
from rostersync.store.schema import audit_log

CSV_COLUMNS = ("id", "at", "actor", "action", "district_id", "detail")


def parse_since(text: str) -> datetime:
    """``--since``: an ISO date or date-time (UTC when no offset is given)."""
    try:
        value = (
            datetime.fromisoformat(text)
            if "T" in text or " " in text
            else datetime.combine(date.fromisoformat(text), datetime.min.time())
        )
    except ValueError:
        raise ConfigurationError(
            f"--since: {text!r} is not a date",
            setting="--since",
            hint="use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]",
        ) from None
    return as_utc(value)


def list_entries(
    store: Store,
    *,
    caller: Account | None = None,
    district_id: int | None = None,
    since: datetime | None = None,
    limit: int = 1000,
) -> list[AuditEntry]:
    """Entries newest first. ``caller`` None is the host's shell (every entry)."""
    if limit < 1:
        raise ConfigurationError("--limit must be at least 1", setting="--limit")
    stmt = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if district_id is not None:
        if caller is not None:
            authz.require(caller, "read", district_id)
        stmt = stmt.where(audit_log.c.district_id == district_id)
    if since is not None:
        stmt = stmt.where(audit_log.c.at >= since)
    if caller is not None:
        stmt = authz.scope(caller, stmt, audit_log.c.district_id)
    with translate_errors(store.engine), store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [
        AuditEntry(
            r.id,
            r.district_id,
            r.actor,
            r.action,
            json.loads(r.detail),
            as_utc(r.at),
        )
        for r in rows
    ]


def to_csv(entries: Sequence[AuditEntry]) -> str:
    """The entries as CSV (``detail`` as JSON in one column)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        writer.writerow(
            [
                e.id,
                e.at.isoformat(),
                e.actor,
                e.action,
                "" if e.district_id is None else e.district_id,
                json.dumps(e.detail, sort_keys=True, default=str),
            ]
        )
    return out.getvalue()
