"""The fuzzed provider on SQLite and (when set up) PostgreSQL; see :mod:`fuzz_provider`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fuzz_provider import synced_provider
from openapi_fuzz import Served
from or_provider import PG_URL, postgres_schema


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The provider over a synced district, on SQLite and (when set up) PostgreSQL."""
    root = tmp_path_factory.mktemp("fuzz")
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("ROSTERSYNC_TEST_POSTGRES_URL is not set")
        with postgres_schema() as url:
            yield from synced_provider(root, url)
    else:
        yield from synced_provider(root, None)
