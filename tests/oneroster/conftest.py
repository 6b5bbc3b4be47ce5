"""OneRoster provider fixture: one published store and a real server per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from or_provider import Provider, start_provider


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    yield from start_provider(tmp_path_factory.mktemp("oneroster") / "var")
