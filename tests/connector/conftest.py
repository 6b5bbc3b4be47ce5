"""Fixtures: PowerSchool simulators served by uvicorn on 127.0.0.1 in a background thread."""

from __future__ import annotations

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
