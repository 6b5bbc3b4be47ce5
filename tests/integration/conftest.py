"""Integration fixtures: a PowerSchool simulator in a thread, a real SQLite store, a webhook
receiver (a real HTTP server on 127.0.0.1) that records every event it is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from integ_helpers import Hook

from rostersync.settings import load_settings
from rostersync.simulators.powerschool import (
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from rostersync.store import Store, open_store
from support.webhooks import serve_posts


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook(url="")

    def answer(headers: dict[str, str], body: bytes) -> int:
        state.events.append(json.loads(body))
        return 204

    with serve_posts(answer) as url:
        state.url = url
        yield state


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    """A fresh tiny district per test (tests change its days and faults)."""
    with run_simulator(generate_district("tiny", seed=2), SimulatorConfig()) as running:
        yield running


@pytest.fixture
def store() -> Iterator[Store]:
    """The installation's store (SQLite in the test's data directory), as the CLI opens it."""
    s = open_store(load_settings(), upgrade=True)
    try:
        yield s
    finally:
        s.dispose()
