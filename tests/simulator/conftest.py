"""Simulator fixtures: a tiny district served over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest
from ps_sim_helpers import Api, fetch_token

from rostersync.simulators.powerschool import (
    District,
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from support.simulators import tiny_simulator_fixtures

tiny, server = tiny_simulator_fixtures(7, district="tiny", sim="server")


@pytest.fixture(scope="session")
def api(server: RunningSimulator) -> Iterator[httpx.Client]:
    token = fetch_token(server.url)
    with httpx.Client(
        base_url=server.url,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    ) as client:
        yield client


@pytest.fixture(scope="session")
def token_for() -> object:
    """A function: base URL (and credentials) → a fresh access token."""
    return fetch_token


@pytest.fixture
def start(tiny: District) -> Iterator[Callable[..., Api]]:
    """Start a simulator with its own config: `start(SimulatorConfig(...), district=None)`."""
    stack = ExitStack()

    def _start(config: SimulatorConfig | None = None, district: District | None = None) -> Api:
        running = stack.enter_context(run_simulator(district or tiny, config or SimulatorConfig()))
        api = Api(running)
        stack.callback(api.client.close)
        return api

    with stack:
        yield _start


@pytest.fixture(scope="session")
def tiny_small() -> District:
    """A 400-student district: big enough that every planted messy case occurs."""
    return generate_district("small", seed=11, students=400)
