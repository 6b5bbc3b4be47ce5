"""Fixtures: PowerSchool simulators served by uvicorn on 127.0.0.1 in a background thread."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

import pytest

from rostersync.simulators.powerschool import (
    District,
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)


@pytest.fixture(scope="session")
def tiny_district() -> District:
    return generate_district("tiny", seed=1)


@pytest.fixture(scope="session")
def tiny_sim(tiny_district: District) -> Iterator[RunningSimulator]:
    with run_simulator(tiny_district, SimulatorConfig()) as sim:
        yield sim


@pytest.fixture(autouse=True)
def _logging_to_real_stderr() -> Iterator[None]:
    """The CLI points logging at the stream of the moment; in-process CLI tests close theirs."""
    yield
    logging.basicConfig(stream=sys.__stderr__, level=logging.WARNING, force=True)
