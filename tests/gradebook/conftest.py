"""Gradebook fixtures: a synced district served over a socket, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from gb_served import Served, serve_district

from support.postgres import fresh_pg_schema

PG_ENV = "ROSTERSYNC_TEST_POSTGRES_URL"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """A tiny district synced through the real path and served, with gradebook API clients."""
    root = tmp_path_factory.mktemp("gradebook")
    if request.param == "sqlite":
        yield from serve_district(root)
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    with fresh_pg_schema(base, prefix="rs_gb") as url:
        yield from serve_district(root, url)
