"""The fuzzed provider: a district from a real sync (simulator → connector → pipeline → publish)
served by the real app over a socket, with an API client granted every rostering scope."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "oneroster"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conformance"))

from conformance_data import SCOPES, SECRET_ENV, district_config
from openapi_fuzz import Served
from or_provider import serve

from rostersync.config import validate_config
from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import (
    DEFAULT_CLIENT_SECRET,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from rostersync.store import open_store
from rostersync.sync.run import sync_config
from rostersync.web import create_app


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("fuzz")
    os.environ[SECRET_ENV] = DEFAULT_CLIENT_SECRET
    settings = load_settings(data_dir=root / "var")
    store = open_store(settings, upgrade=True)
    try:
        with run_simulator(generate_district("tiny", seed=5), SimulatorConfig()) as sim:
            config = validate_config(district_config(sim.url), "fuzz district")
            outcome = sync_config(store, config, settings)
        assert outcome.status == "succeeded", outcome.to_dict()
        clients = ApiClients(store.engine, settings.get_secret_key())
        client = clients.create(outcome.district_id, "fuzz", SCOPES, SharingRules.everything())
        with serve(create_app(settings, store)) as url:
            resp = httpx.post(
                url + "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client.client.client_id, client.client_secret),
            )
            assert resp.status_code == 200, resp.text
            yield Served(url, str(resp.json()["access_token"]))
    finally:
        store.dispose()
        os.environ.pop(SECRET_ENV, None)
