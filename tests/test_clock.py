"""The one UTC clock: aware timestamps in, aware UTC timestamps out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from rostersync.clock import as_utc, utcnow


def test_utcnow_is_aware_utc() -> None:
    now = utcnow()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_as_utc_reads_naive_as_utc_and_converts_other_zones() -> None:
    naive = datetime(2026, 12, 2, 3, 0)
    assert as_utc(naive) == datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    paris = datetime(2026, 12, 2, 4, 0, tzinfo=timezone(timedelta(hours=1)))
    converted = as_utc(paris)
    assert converted == datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    assert converted.tzinfo is UTC


def test_as_utc_passes_a_null_column_through() -> None:
    assert as_utc(None) is None
