"""Shared fixtures: an isolated data directory and environment for every test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own data directory and no ROSTERSYNC_* settings from the caller."""
    import os

    for key in list(os.environ):
        if key.startswith("ROSTERSYNC_") and not key.startswith("ROSTERSYNC_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ROSTERSYNC_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)
