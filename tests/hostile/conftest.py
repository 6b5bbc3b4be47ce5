"""Hostile-input fixtures: the OneRoster provider (its test helpers live beside its tests)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "oneroster"))

from or_provider import PG_URL, Provider, postgres_schema, start_provider


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def hostile_provider(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Provider]:
    """The real app over the small published roster, on SQLite and (when set up) PostgreSQL."""
    data_dir = tmp_path_factory.mktemp("hostile") / "var"
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("ROSTERSYNC_TEST_POSTGRES_URL is not set")
        with postgres_schema() as url:
            yield from start_provider(data_dir, url)
    else:
        yield from start_provider(data_dir)
