"""End-to-end fixtures: a simulator in a thread, and district configuration files pointing at it."""

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
def e2e_tiny() -> Iterator[tuple[District, RunningSimulator]]:
    district = generate_district("tiny", seed=2)
    with run_simulator(district, SimulatorConfig()) as sim:
        yield district, sim


@pytest.fixture(scope="session")
def e2e_small() -> Iterator[tuple[District, RunningSimulator]]:
    district = generate_district("small", seed=3)
    with run_simulator(district, SimulatorConfig()) as sim:
        yield district, sim
