"""Management API fixtures: a PowerSchool simulator, and the real app served over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_helpers import Api, serve

from rostersync.settings import Settings
from rostersync.simulators.powerschool import (
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from rostersync.store import Store, make_engine
from rostersync.web.app import create_app


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with run_simulator(generate_district("tiny", seed=7), SimulatorConfig()) as running:
        yield running


@pytest.fixture
def api(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The web app over a migrated store on each backend, served by uvicorn on 127.0.0.1."""
    monkeypatch.setenv("ROSTERSYNC_DATABASE_URL", store_url)
    settings = Settings(database_url=store_url)
    store = Store(make_engine(store_url))
    store.upgrade()
    app = create_app(settings, store)
    with serve(app) as url:
        running = Api(url, store, settings)
        try:
            yield running
        finally:
            for client in running.clients.values():
                client.close()
    store.dispose()
