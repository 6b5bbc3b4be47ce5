"""Fixtures: PowerSchool simulators served by uvicorn on 127.0.0.1 in a background thread."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

import pytest

from support.simulators import tiny_simulator_fixtures

tiny_district, tiny_sim = tiny_simulator_fixtures(1, district="tiny_district", sim="tiny_sim")


@pytest.fixture(autouse=True)
def _logging_to_real_stderr() -> Iterator[None]:
    """The CLI points logging at the stream of the moment; in-process CLI tests close theirs."""
    yield
    logging.basicConfig(stream=sys.__stderr__, level=logging.WARNING, force=True)
