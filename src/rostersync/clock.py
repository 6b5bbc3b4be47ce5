"""The one UTC clock: every timestamp rostersync writes is an aware datetime in UTC.

``utcnow()`` replaces scattered ``datetime.now(timezone.utc)`` helpers; ``as_utc()`` makes a
timestamp read back from a database (SQLite returns naive values) or given by a caller aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

__all__ = ["as_utc", "utcnow"]


def utcnow() -> datetime:
    """Now, as an aware datetime in UTC."""
    return datetime.now(UTC)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
@overload
def as_utc(value: datetime | None) -> datetime | None: ...


def as_utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC datetime; a naive value is taken to be UTC already (None stays
    None, for a nullable column)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
