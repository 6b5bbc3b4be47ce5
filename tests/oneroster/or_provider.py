"""OneRoster provider test helpers: a SQLite store with the small roster published, API clients
with different grants, and the web app over it served by uvicorn on 127.0.0.1 in a thread."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from or_sample_roster import small_roster

from rostersync.export.oneroster.catalog import RESOURCES
from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.pagecache import VersionCache
from rostersync.export.oneroster.query import Query, Scope
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.model import Roster
from rostersync.settings import Settings, load_settings
from rostersync.simulators.threaded import serve_in_thread as serve
from rostersync.store import Store, open_store
from rostersync.store.schema import roster_tables
from rostersync.web import create_app
from support.postgres import fresh_pg_schema

PG_URL = os.environ.get("ROSTERSYNC_TEST_POSTGRES_URL")


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A throwaway PostgreSQL schema; yields a store URL with it first on the search path."""
    assert PG_URL
    with fresh_pg_schema(PG_URL, prefix="or") as url:
        yield url


V12 = "/ims/oneroster/rostering/v1p2"
V11 = "/ims/oneroster/v1p1"
SCOPE = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
ALL_SCOPES = ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly")


@dataclass
class Credentials:
    client_id: str
    secret: str


@dataclass
class Provider:
    settings: Settings
    store: Store
    district_id: int
    clients: dict[str, Credentials]
    http: httpx.Client

    def token(self, name: str, scopes: str | None = None) -> str:
        creds = self.clients[name]
        data = {"grant_type": "client_credentials"}
        if scopes is not None:
            data["scope"] = scopes
        resp = self.http.post("/oauth/token", data=data, auth=(creds.client_id, creds.secret))
        assert resp.status_code == 200, resp.text
        return str(resp.json()["access_token"])

    def get(self, path: str, client: str = "full", **params: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.bearer(client)}"}
        return self.http.get(path, params=params, headers=headers)

    _tokens: dict[str, str] | None = None

    def bearer(self, name: str) -> str:
        if self._tokens is None:
            self._tokens = {}
        if name not in self._tokens:
            self._tokens[name] = self.token(name)
        return self._tokens[name]


GRANTS: dict[str, tuple[tuple[str, ...], SharingRules]] = {
    "full": (ALL_SCOPES, SharingRules.everything()),
    "core": (("roster-core.readonly",), SharingRules.everything()),
    "lms": (
        ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly"),
        SharingRules.build(
            entities=[
                "orgs",
                "academicSessions",
                "courses",
                "classes",
                "enrollments",
                "students",
                "teachers",
            ],
            fields=["users.givenName", "users.familyName", "users.grades"],
        ),
    ),
    "north": (ALL_SCOPES, SharingRules.build(schools=["org-s1"], sensitive=["all"])),
}


def start_provider(
    data_dir: Path, database_url: str | None = None, roster: Roster | None = None
) -> Iterator[Provider]:
    """A store with a roster (the small one unless given) published, API clients, and the app
    served over a socket."""
    settings = load_settings(data_dir=data_dir, database_url=database_url)
    store = open_store(settings, upgrade=True)
    district = store.create_district("Springfield")
    other = store.create_district("Shelbyville")
    store.publish(district.id, roster if roster is not None else small_roster())
    clients = ApiClients(store.engine, settings.get_secret_key())
    issued: dict[str, Credentials] = {}
    for name, (scopes, rules) in GRANTS.items():
        new = clients.create(district.id, name, scopes, rules)
        issued[name] = Credentials(new.client.client_id, new.client_secret)
    stranger = clients.create(other.id, "stranger", ALL_SCOPES, SharingRules.everything())
    issued["stranger"] = Credentials(stranger.client.client_id, stranger.client_secret)
    app = create_app(settings, store)
    with serve(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        yield Provider(settings, store, district.id, issued, http)
    store.dispose()


def basic(creds: Credentials) -> str:
    raw = f"{creds.client_id}:{creds.secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def users_query(district_id: int, cache: VersionCache | None, version: int | None) -> Query:
    """The 1.2 users collection of a district, for everything, read as of ``version``."""
    return Query(
        RESOURCES["1.2"]["users"],
        roster_tables,
        Scope(district_id, SharingRules.everything()),
        cache,
        version,
        guarded=True,
    )


def ever_published_users(provider: Provider) -> set[str]:
    """The users a full listing shows: every current user and, as ``tobedeleted`` tombstones
    (within the retention period), every user a version deleted."""
    store, district = provider.store, provider.district_id
    return {
        sid
        for v in store.list_versions(district)
        for sid in store.read_version(district, v.version)["users"]["sourcedId"]
    }
