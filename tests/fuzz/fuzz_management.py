"""The management API (``/api/v1``) as a fuzz target: a district from a real sync served by the
real app over a socket (the simulator stays up, so runs and connection tests reach it), an
operator's personal token, the API's 4xx payload rule, and real values for path parameters.
Shared by tests/fuzz and bench/fuzz.py."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openapi_fuzz import Served
from schemathesis import Case

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "oneroster"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conformance"))

from conformance_data import SECRET_ENV, district_config
from or_provider import serve

from rostersync import manage
from rostersync.admin.accounts import Accounts
from rostersync.admin.tokens import Tokens
from rostersync.config import validate_config
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

SCHEMA_PATH = "/api/v1/openapi.json"
#: Deleting the fuzzed district would leave every later operation a 404: fuzzed apart.
DESTRUCTIVE = "DELETE /api/v1/districts/{district}"


@dataclass
class ManagedServed(Served):
    """The served app, an operator's token, and values of path parameters that exist."""

    values: dict[str, str]


def synced_management(
    root: Path, database_url: str | None, size: str = "tiny"
) -> Iterator[ManagedServed]:
    """A synced district with an API client, served with an operator's token."""
    os.environ[SECRET_ENV] = DEFAULT_CLIENT_SECRET
    settings = load_settings(data_dir=root / "var", database_url=database_url)
    store = open_store(settings, upgrade=True)
    try:
        with run_simulator(generate_district(size, seed=5), SimulatorConfig()) as sim:
            config = validate_config(district_config(sim.url), "fuzz district")
            outcome = sync_config(store, config, settings)
            assert outcome.status == "succeeded", outcome.to_dict()
            district = store.get_district(outcome.district_id)
            manage.create_api_client(
                store,
                "cli:root",
                settings.get_secret_key(),
                district.id,
                "app",
                ["roster.readonly"],
            )
            accounts = Accounts(store, settings)
            accounts.create("fuzz-operator", "operator", "fuzzing passphrase 1", actor="cli:root")
            token, _ = Tokens(store, accounts).create(
                "fuzz-operator", "fuzz", days=1, actor="cli:root"
            )
            values = {
                "district": district.slug,
                "run_id": str(outcome.run_id),
                "version": "1",
                "entity": "users",
                "client": "app",
            }
            with serve(create_app(settings, store)) as url:
                yield ManagedServed(url, token, values)
    finally:
        store.dispose()
        os.environ.pop(SECRET_ENV, None)


def error_payload(case: Case, response: Any) -> str | None:
    """The management API's 4xx rule: ``{"error": {"code", "message"}}``, a message to read."""
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} with a body that is not JSON: {response.text[:100]!r}"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not error.get("code") or not error.get("message"):
        return f"{response.status_code} without an error code and message: {body!r}"[:300]
    if "--" in str(error.get("message")):
        return f"{response.status_code} names a command-line option: {error['message']!r}"[:300]
    return None


def real_values(served: ManagedServed) -> Callable[[str], dict[str, str] | None]:
    """Every ``{param}`` of a path filled with a value that exists (None if one is unknown)."""

    def values(path: str) -> dict[str, str] | None:
        wanted = re.findall(r"{(\w+)}", path)
        if not wanted or any(w not in served.values for w in wanted):
            return None
        return {w: served.values[w] for w in wanted}

    return values
