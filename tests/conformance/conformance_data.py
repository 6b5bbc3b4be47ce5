"""The conformance suite's data: a district synced twice through the real path.

A PowerSchool simulator serves a generated district; a real sync (connector → pipeline → change
flow → publish into a SQLite store) publishes version 1; the simulator then lives three days
(new, withdrawn and transferred students, schedule changes) and a second sync publishes
version 2; a rollback to version 1 publishes version 3, and a third sync version 4, which is
served (delta packages: version 3 → 4). The provider's web app is served over a socket, with
one API client granted every rostering scope, and CSV packages (bulk and delta, 1.1 and
1.2) are exported from the store.
Nothing is hand-filled, so a field the pipeline never fills cannot hide.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from rostersync.cli.demo import demo_config
from rostersync.config import validate_config
from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.csv_export import write_package
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.model import Roster
from rostersync.settings import Settings, load_settings
from rostersync.simulators.powerschool import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from rostersync.simulators.threaded import serve_in_thread
from rostersync.store import Store, open_store
from rostersync.sync.run import SyncOutcome, sync_config
from rostersync.web import create_app

V12 = "/ims/oneroster/rostering/v1p2"
V11 = "/ims/oneroster/v1p1"
BASES = {"1.1": V11, "1.2": V12}
SCOPES = ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly")
SECRET_ENV = "CONFORMANCE_PS_SECRET"
DISTRICT = "Conformance Unified"
DAYS = 3
ROLLED_BACK = 3  # version 1 restored
CURRENT = 4  # the sync after the rollback


@dataclass(eq=False)
class Synced:
    """The district after both syncs, its served API and its exported CSV packages."""

    settings: Settings
    store: Store
    district_id: int
    outcomes: list[SyncOutcome]
    first: Roster  # the rolled-back version (version 1's content) as read back from the store
    second: Roster  # the current version: the day's changes after the rollback
    rolled_back: dt.datetime  # just after the rollback, before the sync of the current version
    http: httpx.Client
    token: str
    credentials: tuple[str, str]  # the API client's id and secret
    demo: bool = False  # the demo district (size small, the demo's rules)
    packages: dict[tuple[str, str], dict[str, bytes]] = field(default_factory=dict)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(
            path, params=params or None, headers={"Authorization": f"Bearer {self.token}"}
        )


def district_config(url: str) -> dict[str, Any]:
    return {
        "district": DISTRICT,
        "sources": [
            {
                "name": "sis",
                "app": "powerschool",
                "delivery": {
                    "url": url,
                    "client_id": DEFAULT_CLIENT_ID,
                    "client_secret": f"env:{SECRET_ENV}",
                },
                "connector": {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.1},
                "attribute_mapping": {
                    "student": {"email": "U_DEF_EXT_STUDENTS.school_email"},
                },
                "advanced": {"compare_by_uniqueness": False},
            }
        ],
        # the suite checks what is published, so a big day is never held
        "hold_threshold": {"allow_over_threshold_until": "2099-12-31"},
    }


def _package(
    store: Store, district_id: int, version: str, mode: str, out: Path
) -> dict[str, bytes]:
    roster = store.read_version(district_id, CURRENT)
    previous = store.read_version(district_id, ROLLED_BACK) if mode == "delta" else None
    path = out / f"or-{version}-{mode}.zip"
    write_package(path, roster, version, previous=previous, system_code="conformance")
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def demo_district_config(url: str) -> dict[str, Any]:
    """The configuration ``rostersync demo`` writes (a rule in every step), never held."""
    body = demo_config(url, DEFAULT_CLIENT_ID, DISTRICT)
    source = body["sources"][0]  # type: ignore[index]
    source["delivery"]["client_secret"] = f"env:{SECRET_ENV}"
    body["hold_threshold"] = {"allow_over_threshold_until": "2099-12-31"}
    return body


def sync_twice(
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str | None = None,
    *,
    demo: bool = False,
) -> Iterator[Synced]:
    """Two real syncs of a generated district, the app serving them, and four CSV packages."""
    root = tmp_path_factory.mktemp("conformance")
    os.environ[SECRET_ENV] = DEFAULT_CLIENT_SECRET
    district = generate_district("small", seed=1) if demo else generate_district("tiny", seed=11)
    settings = load_settings(data_dir=root / "var", database_url=database_url)
    store = open_store(settings, upgrade=True)
    try:
        with run_simulator(district, SimulatorConfig()) as sim:
            body = demo_district_config(sim.url) if demo else district_config(sim.url)
            config = validate_config(body, "conformance district")
            first = sync_config(store, config, settings)
            sim.set_day(DAYS)
            second = sync_config(store, config, settings)
            # an admin rolls back to version 1 (version 3), and the next sync brings the day's
            # changes and deletions back (version 4): the served roster went through a rollback
            store.restore(first.district_id, 1, note="conformance rollback")
            rolled_back = dt.datetime.now(dt.UTC)
            third = sync_config(store, config, settings)
        assert (first.status, first.version) == ("succeeded", 1), first.to_dict()
        assert (second.status, second.version) == ("succeeded", 2), second.to_dict()
        assert (third.status, third.version) == ("succeeded", CURRENT), third.to_dict()
        district_id = first.district_id
        clients = ApiClients(store.engine, settings.get_secret_key())
        client = clients.create(district_id, "conformance", SCOPES, SharingRules.everything())
        with (
            serve_in_thread(create_app(settings, store)) as url,
            httpx.Client(base_url=url, timeout=60) as http,
        ):
            resp = http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client.client.client_id, client.client_secret),
            )
            assert resp.status_code == 200, resp.text
            synced = Synced(
                settings,
                store,
                district_id,
                [first, second, third],
                store.read_version(district_id, ROLLED_BACK),
                store.read_version(district_id, CURRENT),
                rolled_back,
                http,
                str(resp.json()["access_token"]),
                (client.client.client_id, client.client_secret),
                demo,
            )
            for version in ("1.1", "1.2"):
                for mode in ("bulk", "delta"):
                    synced.packages[(version, mode)] = _package(
                        store, district_id, version, mode, root
                    )
            yield synced
    finally:
        store.dispose()
        os.environ.pop(SECRET_ENV, None)
