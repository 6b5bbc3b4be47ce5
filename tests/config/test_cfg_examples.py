"""The example configurations shipped in examples/ stay valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from rostersync.config import load_config

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))


def test_there_are_examples() -> None:
    assert EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_validates(path: Path) -> None:
    config = load_config(path)
    assert config.sources
