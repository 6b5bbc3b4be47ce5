"""Faults injected by the simulator: the extraction completes with exactly the clean result."""

from __future__ import annotations

import asyncio

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from ps_helpers import FAST, extract

from rostersync.connectors.base import ExtractResult
from rostersync.connectors.powerschool import ExtractPlan, PowerSchoolOptions
from rostersync.simulators.powerschool import (
    District,
    Faults,
    RunningSimulator,
    SimulatorConfig,
    run_simulator,
)

PLAN = ExtractPlan(
    sync_co_teachers=True, custom_fields={"student": ("U_DEF_EXT_STUDENTS.school_email",)}
)


@pytest.fixture(scope="module")
def clean(tiny_sim: RunningSimulator) -> ExtractResult:
    result, _ = asyncio.run(extract(tiny_sim.url, PLAN))
    return result  # type: ignore[no-any-return]


def assert_same(a: ExtractResult, b: ExtractResult) -> None:
    for name, table in a.roster.items():
        other = b.roster[name]
        assert_frame_equal(table.sort("sourcedId"), other.sort("sourcedId"), check_row_order=True)


@pytest.mark.parametrize(
    ("faults", "options"),
    [
        pytest.param(Faults(latency_ms=20), FAST, id="latency"),
        pytest.param(Faults(error_rate=0.3, seed=3), FAST, id="503-bursts"),
        pytest.param(Faults(truncate_rate=0.2, seed=5), FAST, id="truncated-pages"),
        pytest.param(Faults(token_max_requests=20), FAST, id="token-expiry"),
        pytest.param(
            Faults(min_interval_ms=15),
            PowerSchoolOptions(
                min_interval_ms=15, backoff_base_seconds=0.01, backoff_max_seconds=0.2
            ),
            id="throttling",
        ),
    ],
)
async def test_faults_give_the_clean_result(
    tiny_district: District,
    clean: ExtractResult,
    faults: Faults,
    options: PowerSchoolOptions,
) -> None:
    with run_simulator(tiny_district, SimulatorConfig(faults=faults)) as sim:
        result, conn = await extract(sim.url, PLAN, options=options)
    assert_same(clean, result)
    if faults.error_rate or faults.truncate_rate:
        assert conn.session.stats.retries > 0
    if faults.token_max_requests:
        assert conn.session.auth.tokens_obtained > 1


async def test_page_size_never_exceeds_the_plugin_maximum(
    tiny_district: District, clean: ExtractResult
) -> None:
    sizes = dict.fromkeys(
        (
            "student",
            "staff",
            "section",
            "section_enrollment",
            "school",
            "course",
            "term",
            "schema_table_query",
        ),
        7,
    )
    config = SimulatorConfig(max_page_sizes=sizes, pagesize_over_max="error")
    with run_simulator(tiny_district, config) as sim:
        result, conn = await extract(sim.url, PLAN)
    assert_same(clean, result)
    assert conn.page_size("student_max_page_size") == 7
    students = result.roster["users"].filter(pl.col("role") == "student").height
    assert result.stats["entities"]["students"]["pages"] >= students // 7


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("concurrency", [1, 8])
async def test_a_throttling_source_with_default_settings_paces_the_extract(
    tiny_district: District, clean: ExtractResult, status: int, concurrency: int
) -> None:
    # No min_interval_ms configured: the connector learns the pace from the refusals instead
    # of hammering the server (every refusal costs a whole Retry-After second).
    config = SimulatorConfig(faults=Faults(min_interval_ms=60), throttle_status=status)
    options = PowerSchoolOptions(concurrency=concurrency)
    with run_simulator(tiny_district, config) as sim:
        result, conn = await extract(sim.url, PLAN, options=options)
    assert_same(clean, result)
    stats = conn.session.stats
    assert stats.throttled > 0
    assert stats.requests <= 1.3 * clean.stats["requests"]


async def test_token_expiry_under_concurrency_renews_once_per_token(
    tiny_district: District, clean: ExtractResult
) -> None:
    limit = 6
    config = SimulatorConfig(faults=Faults(token_max_requests=limit))
    options = PowerSchoolOptions(concurrency=8, backoff_base_seconds=0.01)
    with run_simulator(tiny_district, config) as sim:
        result, conn = await extract(sim.url, PLAN, options=options)
    assert_same(clean, result)
    renewals = result.stats["token_renewals"]
    assert renewals == conn.session.auth.renewals == conn.session.auth.tokens_obtained - 1
    # One renewal per used-up token, not one per refused request.
    pages = clean.stats["requests"]
    assert pages / limit - 2 <= renewals <= pages / limit * 1.5 + 2
