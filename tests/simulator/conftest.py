"""Simulator fixtures: a tiny district served over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest

from rostersync.simulators.powerschool import (
    District,
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)


@pytest.fixture(scope="session")
def tiny() -> District:
    return generate_district("tiny", seed=7)


@pytest.fixture(scope="session")
def server(tiny: District) -> Iterator[RunningSimulator]:
    with run_simulator(tiny, SimulatorConfig()) as running:
        yield running


def _token_for(
    url: str, client_id: str = "rostersync-demo", secret: str = "rostersync-demo-secret"
) -> str:
    response = httpx.post(
        f"{url}/oauth/access_token",
        auth=(client_id, secret),
        data={"grant_type": "client_credentials"},
        headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture(scope="session")
def api(server: RunningSimulator) -> Iterator[httpx.Client]:
    token = _token_for(server.url)
    with httpx.Client(
        base_url=server.url,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    ) as client:
        yield client


@pytest.fixture(scope="session")
def token_for() -> object:
    """A function: base URL (and credentials) → a fresh access token."""
    return _token_for


class Api:
    """A started simulator plus an authenticated client (for tests that need their own config)."""

    def __init__(self, running: RunningSimulator) -> None:
        self.server = running
        self.token = _token_for(running.url, running.config.client_id, running.config.client_secret)
        self.client = httpx.Client(
            base_url=running.url,
            headers={"Accept": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        self.get = self.client.get
        self.post = self.client.post
        self.request = self.client.request


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
