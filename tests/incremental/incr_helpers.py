"""Helpers of the incremental-extraction tests: a simulator with our plugin's PowerQuery
installed, connectors with and without change tracking, writes through the SIS's own API, and a
record-for-record comparison of two canonical rosters."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import polars as pl
from polars.testing import assert_frame_equal

from rostersync.connectors.base import Baseline, Extraction
from rostersync.connectors.powerschool import ExtractPlan, PowerSchoolConnector, PowerSchoolOptions
from rostersync.connectors.powerschool.plugin import plugin_zip
from rostersync.simulators.powerschool import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    District,
    RunningSimulator,
    SimulatorConfig,
    default_plugin,
    run_simulator,
)
from rostersync.simulators.powerschool.plugin import parse_named_queries

#: Custom fields from an extension table, so its changes and deletions are folded too.
PLAN = ExtractPlan(
    sync_co_teachers=True,
    custom_fields={"student": ("U_DEF_EXT_STUDENTS.school_email",)},
    change_tracking=True,
)
FULL = PowerSchoolOptions(
    concurrency=6, backoff_base_seconds=0.01, backoff_max_seconds=0.2, max_retries=8
)
INCREMENTAL = FULL.model_copy(update={"incremental": True})


def our_queries(plan: ExtractPlan = PLAN) -> dict[str, Any]:
    """The named queries of the plugin zip the connector writes for ``plan``."""
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(plugin_zip(plan))) as archive:
        text = archive.read("queries_root/rostersync.named_queries.xml")
    return {q.name: q for q in parse_named_queries(text, "plugin.zip")}


@contextlib.contextmanager
def serve(
    district: District, *, with_queries: bool = True, **config: Any
) -> Iterator[RunningSimulator]:
    """The simulator on ``district``; every column granted (writes to U_ tables too) and, with
    ``with_queries``, our plugin's PowerQuery installed."""
    plugin = default_plugin(district)
    if with_queries:
        plugin.queries.update(our_queries())
    with run_simulator(district, SimulatorConfig(plugin=plugin, **config)) as running:
        yield running


async def extract(
    url: str,
    *,
    options: PowerSchoolOptions = INCREMENTAL,
    baseline: Baseline | None = None,
    plan: ExtractPlan = PLAN,
    schools: list[str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Extraction:
    async with httpx.AsyncClient(timeout=60, transport=transport) as client:
        conn = PowerSchoolConnector.create(
            client, url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, plan=plan, options=options
        )
        return await conn.extract(schools, baseline=baseline)


def assert_same_roster(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> None:
    """Record for record: the same tables with the same rows (row order aside)."""
    assert sorted(a) == sorted(b)
    for name in a:
        left, right = a[name], b[name]
        assert left.columns == right.columns, name
        assert left.height == right.height, (name, left.height, right.height)
        assert_frame_equal(left.sort(left.columns), right.sort(right.columns), check_dtypes=False)


def _token(url: str) -> str:
    answer = httpx.post(
        f"{url}/oauth/access_token",
        data={"grant_type": "client_credentials"},
        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def write(url: str, method: str, path: str, body: Any | None = None) -> httpx.Response:
    """A write through the SIS's own API (as a district's staff or another app would)."""
    headers = {"Authorization": f"Bearer {_token(url)}", "Accept": "application/json"}
    answer = httpx.request(method, f"{url}{path}", json=body, headers=headers, timeout=30)
    assert answer.status_code < 300, answer.text
    return answer


def rename_student(url: str, dcid: int, first: str) -> None:
    write(
        url,
        "POST",
        "/ws/v1/student",
        {
            "students": {
                "student": [{"action": "UPDATE", "id": str(dcid), "name": {"first_name": first}}]
            }
        },
    )


def set_school_email(url: str, dcid: int, email: str) -> None:
    body = {"tables": {"u_def_ext_students": {"school_email": email}}}
    write(url, "PUT", f"/ws/schema/table/u_def_ext_students/{dcid}", body)


def delete_extension(url: str, dcid: int) -> None:
    write(url, "DELETE", f"/ws/schema/table/u_def_ext_students/{dcid}")
