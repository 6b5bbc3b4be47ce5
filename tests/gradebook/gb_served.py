"""The gradebook tests' district: a PowerSchool simulator synced through the real path into a
store, the web app served over a socket, and API clients with different gradebook grants."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import polars as pl

from rostersync.config import validate_config
from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.model import Roster
from rostersync.settings import Settings, load_settings
from rostersync.simulators.powerschool import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    District,
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from rostersync.simulators.threaded import serve_in_thread
from rostersync.store import Store, open_store
from rostersync.sync.run import sync_config
from rostersync.web import create_app

GB12 = "/ims/oneroster/gradebook/v1p2"
V11 = "/ims/oneroster/v1p1"
SCOPE12 = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
SECRET_ENV = "GRADEBOOK_PS_SECRET"
DISTRICT = "Gradebook Unified"
ROSTER = ("roster-core.readonly", "roster.readonly")
GRADEBOOK = (
    "gradebook.readonly",
    "gradebook.createput",
    "gradebook.createpost",
    "gradebook.delete",
)


def district_config(url: str, **extra: Any) -> dict[str, Any]:
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
                "advanced": {"compare_by_uniqueness": False},
            }
        ],
        **extra,
    }


@dataclass
class Served:
    """The synced district, its store, the app's HTTP client and the API clients' tokens."""

    settings: Settings
    store: Store
    district_id: int
    roster: Roster
    sis: District
    sim: RunningSimulator
    http: httpx.Client
    tokens: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, tuple[str, str]] = field(default_factory=dict)

    def call(
        self, method: str, path: str, client: str = "lms", json: Any = None, **params: str
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[client]}"}
        return self.http.request(method, path, params=params or None, json=json, headers=headers)

    def get(self, path: str, client: str = "lms", **params: str) -> httpx.Response:
        return self.call("GET", path, client, **params)

    def put(self, path: str, body: Any, client: str = "lms") -> httpx.Response:
        return self.call("PUT", path, client, json=body)

    def sim_call(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        """A call to the PowerSchool simulator's API, as another client of it (a teacher's
        PowerTeacher Pro, say, or a test reading the SIS's gradebook)."""
        with httpx.Client(base_url=self.sim.url, timeout=30) as ps:
            token = ps.post(
                "/oauth/access_token",
                data={"grant_type": "client_credentials"},
                auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            ).json()["access_token"]
            return ps.request(
                method,
                path,
                params=params,
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )

    def ps_gradebook(self) -> tuple[dict[int, dict[str, Any]], dict[tuple[int, int], str]]:
        """PowerTeacher Pro's assignments (by id) and scores ((assignment, student) → score
        entered), read through the simulator's grade-sync API."""
        teacher = int(self.sis["users"]["dcid"][0])
        listed = self.sim_call("GET", "/ws/xte/section/assignment/", users_dcid=teacher)
        assert listed.status_code == 200, listed.text
        assignments = {
            int(a["assignmentsectionid"]): a
            for wrapper in listed.json()
            for a in wrapper["_assignmentsections"]
        }
        scores = self.sim_call("GET", "/ws/xte/score", users_dcid=teacher).json()
        return assignments, {
            (
                int(s["_assignmentsection"]["assignmentsectionid"]),
                int(s["studentsdcid"]),
            ): str(s["actualscoreentered"])
            for s in scores["assignment_scores"]
        }

    # -- roster facts the tests write against ----------------------------------------------

    def class_with_students(self, index: int = 0) -> tuple[str, list[str]]:
        """A class (by size rank) and its enrolled students, read from the published roster."""
        e = self.roster["enrollments"].filter(pl.col("role") == "student")
        sizes = e.group_by("classSourcedId").len().sort(["len", "classSourcedId"], descending=True)
        cid = sizes["classSourcedId"][index]
        students = sorted(e.filter(pl.col("classSourcedId") == cid)["userSourcedId"].to_list())
        return str(cid), students

    def school_of(self, class_id: str) -> str:
        c = self.roster["classes"].filter(pl.col("sourcedId") == class_id)
        return str(c["schoolSourcedId"][0])

    def term_of(self, class_id: str) -> str:
        c = self.roster["classes"].filter(pl.col("sourcedId") == class_id)
        return str(c["termSourcedIds"][0][0])

    def student_not_in(self, class_id: str) -> str:
        e = self.roster["enrollments"].filter(pl.col("role") == "student")
        inside = set(e.filter(pl.col("classSourcedId") == class_id)["userSourcedId"])
        return str(next(s for s in sorted(e["userSourcedId"].unique()) if s not in inside))


def serve_district(
    root: Path, database_url: str | None = None, *, seed: int = 21, sync_mode: str = "import"
) -> Iterator[Served]:
    """Sync a tiny district once and serve it; API clients ``lms`` (roster + gradebook),
    ``reader`` (gradebook.readonly), ``roster_only``, ``elsewhere`` (another school only) and
    ``no_students`` (classes but no students)."""
    os.environ[SECRET_ENV] = DEFAULT_CLIENT_SECRET
    district = generate_district("tiny", seed=seed)
    settings = load_settings(data_dir=root / "var", database_url=database_url)
    store = open_store(settings, upgrade=True)
    try:
        with run_simulator(district, SimulatorConfig()) as sim:
            config = validate_config(district_config(sim.url), "gradebook district")
            outcome = sync_config(store, config, settings)
            assert outcome.status == "succeeded", outcome.to_dict()
            roster = store.read_version(outcome.district_id)
            clients = ApiClients(store.engine, settings.get_secret_key())
            grants = {
                "lms": ((*ROSTER, *GRADEBOOK), SharingRules.everything()),
                "reader": (("gradebook.readonly",), SharingRules.everything()),
                "roster_only": (ROSTER, SharingRules.everything()),
                # a school of the district it is not granted: none of its classes or students
                "elsewhere": ((*ROSTER, *GRADEBOOK), SharingRules.build(schools=["org-other"])),
                "no_students": (
                    (*ROSTER, *GRADEBOOK),
                    SharingRules.build(entities=["orgs", "academicSessions", "courses", "classes"]),
                ),
            }
            issued = {
                name: clients.create(outcome.district_id, name, scopes, rules)
                for name, (scopes, rules) in grants.items()
            }
            with (
                serve_in_thread(create_app(settings, store)) as url,
                httpx.Client(base_url=url, timeout=60) as http,
            ):
                served = Served(settings, store, outcome.district_id, roster, district, sim, http)
                for name, new in issued.items():
                    resp = http.post(
                        "/oauth/token",
                        data={"grant_type": "client_credentials"},
                        auth=(new.client.client_id, new.client_secret),
                    )
                    assert resp.status_code == 200, resp.text
                    served.tokens[name] = str(resp.json()["access_token"])
                    served.credentials[name] = (new.client.client_id, new.client_secret)
                yield served
    finally:
        store.dispose()
        os.environ.pop(SECRET_ENV, None)
