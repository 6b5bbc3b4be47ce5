"""The one UTC clock: every timestamp rostersync writes is an aware datetime in UTC.

``utcnow()`` replaces scattered ``datetime.now(timezone.utc)`` helpers; ``as_utc()`` makes a
timestamp read back from a database (SQLite returns naive values) or given by a caller aware.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["as_utc", "utcnow"]


def utcnow() -> datetime:
    """Now, as an aware datetime in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
