"""The OneRoster provider as a fuzz target: a district from a real sync (simulator → connector →
pipeline → publish) served by the real app over a socket, its 4xx payload rule, and real IDs for
path parameters. Shared by tests/fuzz and bench/fuzz.py."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from openapi_fuzz import Served
from schemathesis import Case

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "oneroster"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conformance"))

from conformance_data import SCOPES, SECRET_ENV, district_config
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

V11 = "/ims/oneroster/v1p1"
V12 = "/ims/oneroster/rostering/v1p2"


def synced_provider(root: Path, database_url: str | None, size: str = "tiny") -> Iterator[Served]:
    """A district synced from a simulated PowerSchool (size ``size``) into a store at
    ``database_url`` (SQLite under ``root`` when None), served on 127.0.0.1 with a client
    granted every rostering scope; yields its URL and bearer token."""
    os.environ[SECRET_ENV] = DEFAULT_CLIENT_SECRET
    settings = load_settings(data_dir=root / "var", database_url=database_url)
    store = open_store(settings, upgrade=True)
    try:
        with run_simulator(generate_district(size, seed=5), SimulatorConfig()) as sim:
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


def error_payload(case: Case, response: Any) -> str | None:
    """The provider's 4xx rule: imsx status info (1.1 in statusInfoSet) or an OAuth error,
    each with a non-empty description."""
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} with a body that is not JSON: {response.text[:100]!r}"
    if case.path == "/oauth/token":
        ok = isinstance(body, dict) and bool(body.get("error_description"))
        return None if ok else f"OAuth error without error_description: {body!r}"[:300]
    if case.path.startswith(V11 + "/"):
        infos = body.get("statusInfoSet") if isinstance(body, dict) else None
        info = infos[0] if isinstance(infos, list) and infos else None
    else:
        info = body
    if not isinstance(info, dict) or not info.get("imsx_description"):
        return f"{response.status_code} without imsx_description: {body!r}"[:300]
    minor = info.get("imsx_CodeMinor", {}).get("imsx_codeMinorField", [{}])[0]
    if not minor.get("imsx_codeMinorFieldValue"):
        return f"{response.status_code} without a code minor: {body!r}"[:300]
    return None


def real_ids(served: Served) -> Callable[[str], dict[str, str] | None]:
    """Path parameters naming objects that exist: each ``{param}`` takes the first sourcedId
    of the collection its path leads up to (``/classes/{cid}/students`` → ``/classes``)."""
    cache: dict[str, str | None] = {}
    headers = {"Authorization": f"Bearer {served.token}"}

    def first_id(collection: str) -> str | None:
        if collection not in cache:
            resp = httpx.get(served.url + collection, params={"limit": "1"}, headers=headers)
            items = next(iter(resp.json().values())) if resp.status_code == 200 else []
            cache[collection] = items[0]["sourcedId"] if items else None
        return cache[collection]

    def values(path: str) -> dict[str, str] | None:
        found: dict[str, str] = {}
        for match in re.finditer(r"{(\w+)}", path):
            sid = first_id(path[: match.start()].rstrip("/"))
            if sid is None:
                return None
            found[match.group(1)] = sid
        return found or None

    return values
