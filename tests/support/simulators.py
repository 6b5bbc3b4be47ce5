"""A tiny PowerSchool district served by the simulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rostersync.simulators.powerschool import (
    District,
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)


def tiny_simulator_fixtures(seed: int, *, district: str, sim: str) -> tuple[Any, Any]:
    """Two session fixtures for a conftest, named ``district`` and ``sim``: the tiny district of
    ``seed``, and a simulator serving it for the rest of the session.

    Use as ``tiny, server = tiny_simulator_fixtures(7, district="tiny", sim="server")``.
    """

    @pytest.fixture(scope="session", name=district)
    def district_fixture() -> District:
        return generate_district("tiny", seed=seed)

    @pytest.fixture(scope="session", name=sim)
    def sim_fixture(request: pytest.FixtureRequest) -> Iterator[RunningSimulator]:
        with run_simulator(request.getfixturevalue(district), SimulatorConfig()) as running:
            yield running

    return district_fixture, sim_fixture
