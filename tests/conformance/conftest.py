"""The conformance suite's session fixture (see :mod:`conformance_data`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conformance_data import Synced, sync_twice


@pytest.fixture(scope="session")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    """A district synced twice through the real path, served, and exported as CSV."""
    yield from sync_twice(tmp_path_factory)
