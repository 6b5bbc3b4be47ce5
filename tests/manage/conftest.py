"""Management service fixtures: a PowerSchool simulator and two districts synced through it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rostersync.simulators.powerschool import (
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with run_simulator(generate_district("tiny", seed=5), SimulatorConfig()) as running:
        yield running
