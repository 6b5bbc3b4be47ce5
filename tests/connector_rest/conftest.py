"""Fixtures: our own OneRoster provider as the server the REST source reads, over a roster made
through the real path (simulator → PowerSchool connector → pipeline → publish)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rest_helpers import Provider

from rostersync.config import validate_config
from rostersync.connectors.powerschool import ExtractPlan, PowerSchoolConnector
from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.model import Roster
from rostersync.pipeline import run_pipeline
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from rostersync.simulators.threaded import serve_in_thread
from rostersync.store import open_store
from rostersync.web import create_app

SCOPES = ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly")
CONFIG = {
    "district": "Springfield",
    "sources": [
        {
            "name": "sis",
            "app": "powerschool",
            "delivery": {"url": "http://127.0.0.1:9", "client_id": "x", "client_secret": "env:X"},
            "advanced": {"compare_by_uniqueness": False},
        }
    ],
}


async def _extract(url: str) -> Roster:
    async with httpx.AsyncClient(timeout=30) as client:
        conn = PowerSchoolConnector.create(
            client, url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, plan=ExtractPlan(source="sis")
        )
        return (await conn.extract()).roster


@pytest.fixture(scope="session")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """The provider serving a published tiny district (and an empty district's client)."""
    with run_simulator(generate_district("tiny", seed=5), SimulatorConfig()) as sim:
        extracted = asyncio.run(_extract(sim.url))
    roster, _ = run_pipeline({"sis": extracted}, validate_config(CONFIG, "test"))
    settings = load_settings(data_dir=tmp_path_factory.mktemp("provider") / "var")
    store = open_store(settings, upgrade=True)
    district = store.create_district("Springfield")
    empty = store.create_district("Empty")
    store.publish(district.id, roster)
    clients = ApiClients(store.engine, settings.get_secret_key())
    full = clients.create(district.id, "hub", SCOPES, SharingRules.everything())
    none = clients.create(empty.id, "hub", SCOPES, SharingRules.everything())
    published = store.read_version(district.id)
    with serve_in_thread(create_app(settings, store)) as url:
        yield Provider(
            url,
            settings,
            store,
            district.id,
            full.client.client_id,
            full.client_secret,
            none.client.client_id,
            none.client_secret,
            published,
        )
    store.dispose()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path
