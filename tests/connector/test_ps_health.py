"""Partial outages: a source that starts answering empty mid-extraction never yields short tables.

The simulator's ``outage_after_requests`` switches an outage on after N answered requests: from
then on every list and every count comes back empty with status 200, as from a broken SIS. For
every N across a whole extraction, the extract either fails with a health verdict naming the
short scopes, or comes back with no records at all (the circuit breaker fails that run), or —
the outage came after the last read — returns exactly the clean tables.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import pytest
from polars.testing import assert_frame_equal
from ps_helpers import FAST, extract

from rostersync.changes.health import check_source_health
from rostersync.connectors.base import Extraction
from rostersync.connectors.health import (
    HealthLedger,
    HealthProblem,
    PartialExtractError,
    SourceHealth,
)
from rostersync.connectors.powerschool import ExtractPlan, PowerSchoolOptions
from rostersync.simulators.powerschool import (
    District,
    Faults,
    RunningSimulator,
    SimulatorConfig,
    run_simulator,
)

PLAN = ExtractPlan(sync_co_teachers=True)


@pytest.fixture(scope="module")
def outage_sim(tiny_district: District) -> Iterator[RunningSimulator]:
    with run_simulator(tiny_district, SimulatorConfig()) as running:
        yield running


def _switch(sim: RunningSimulator, after: int | None, lasts: int | None = None) -> None:
    """Outage after ``after`` more requests from now, for ``lasts`` requests (None: no outage;
    lasting until switched off)."""
    point = None if after is None else sim.simulator.requests + after
    sim.config.faults = dataclasses.replace(
        sim.config.faults, outage_after_requests=point, outage_requests=lasts
    )


def _same(clean: Extraction, other: Extraction) -> None:
    for name, table in clean.roster.items():
        assert_frame_equal(
            table.sort("sourcedId"), other.roster[name].sort("sourcedId"), check_row_order=True
        )


async def _outage_campaign(
    sim: RunningSimulator, options: PowerSchoolOptions, lasts: int | None = None
) -> tuple[list[int], int]:
    _switch(sim, None)
    clean, _ = await extract(sim.url, PLAN, options=options)
    assert clean.health.ok
    total = clean.requests.requests
    assert total > 20
    failed: list[int] = []
    for after in range(total + 2):
        _switch(sim, after, lasts)
        error: PartialExtractError | None = None
        try:
            result, _ = await extract(sim.url, PLAN, options=options)
        except PartialExtractError as exc:
            error = exc
        finally:
            _switch(sim, None)
        if error is not None:
            assert not error.health.ok
            assert error.health.reasons()
            assert "partial outage" in error.message
            failed.append(after)
            continue
        assert result.health.ok
        if check_source_health(clean.roster, result.roster):
            failed.append(after)  # nothing came back: the circuit breaker fails the run
            continue
        # Whatever came back as a whole must be the clean extract: no record may be missing.
        _same(clean, result)
    return failed, total


def _assert_caught_until_the_closing_counts(failed: list[int], total: int) -> None:
    # Every outage that begins before the reads are done fails the extract; only one that
    # begins among the closing counts may let it through, whole. Later ones are after it.
    assert failed == list(range(len(failed)))
    assert len(failed) >= total // 2


def test_an_outage_at_any_point_never_gives_a_short_extract(outage_sim: RunningSimulator) -> None:
    _assert_caught_until_the_closing_counts(*asyncio.run(_outage_campaign(outage_sim, FAST)))


@pytest.mark.parametrize("lasts", [1, 12])
def test_an_outage_that_comes_and_goes_never_gives_a_short_extract(
    outage_sim: RunningSimulator, lasts: int
) -> None:
    # Every start and a few lengths: the campaign itself asserts that whatever is returned is
    # the clean extract (or empty enough for the circuit breaker).
    failed, _ = asyncio.run(_outage_campaign(outage_sim, FAST, lasts))
    assert failed


def test_an_outage_one_request_at_a_time(outage_sim: RunningSimulator) -> None:
    serial = PowerSchoolOptions(concurrency=1, backoff_base_seconds=0.01, backoff_max_seconds=0.1)
    _assert_caught_until_the_closing_counts(*asyncio.run(_outage_campaign(outage_sim, serial)))


def test_the_verdict_names_the_scope_and_the_counts(outage_sim: RunningSimulator) -> None:
    async def run() -> PartialExtractError:
        _switch(outage_sim, None)
        clean, _ = await extract(outage_sim.url, PLAN, options=FAST)
        # Past the opening counts, into the lists.
        _switch(outage_sim, clean.requests.requests // 2)
        try:
            with pytest.raises(PartialExtractError) as caught:
                await extract(outage_sim.url, PLAN, options=FAST)
        finally:
            _switch(outage_sim, None)
        return caught.value

    error = asyncio.run(run())
    problems = error.health.problems
    assert problems
    assert all(p.scope == "district" or ":" in p.scope for p in problems)
    for p in problems:
        # short, or counted 0 at one moment (an outage still on at the end zeroes the
        # closing counts of scopes that had arrived whole)
        assert p.expected
        assert p.received < p.expected or "and 0 at another" in p.message, p
    assert problems[0].reason() in error.message


def test_an_outage_from_the_start_is_left_to_the_circuit_breaker(
    tiny_district: District, outage_sim: RunningSimulator
) -> None:
    _switch(outage_sim, None)
    clean, _ = asyncio.run(extract(outage_sim.url, PLAN, options=FAST))
    config = SimulatorConfig(faults=Faults(outage=True))
    with run_simulator(tiny_district, config) as sim:
        result, _ = asyncio.run(extract(sim.url, PLAN, options=FAST))
    # Nothing announced, nothing received: no partial outage, but nothing to trust either.
    assert result.health.ok
    assert result.roster["users"].height == 0
    reasons = check_source_health(clean.roster, result.roster)
    assert any("returned no records" in r for r in reasons), reasons


def test_the_ledger_tolerates_what_a_live_source_does_and_nothing_more() -> None:
    ledger = HealthLedger()
    ledger.announced("students", "school:1", 1000)
    ledger.page("students", "school:1", 995, None)  # five left while being read: fine
    ledger.announced("staff", "school:1", 11)
    ledger.announced("staff", "school:1", 12)  # one more staff member while it was read
    ledger.page("staff", "school:1", 11, 1)
    assert ledger.verdict() == SourceHealth()
    ledger.announced("classes", "school:2", 3)
    ledger.announced("students", "school:2", 250)
    ledger.page("students", "school:2", 100, 3)
    ledger.page("students", "school:2", 100, 3)
    ledger.page("students", "school:2", 0, 3)  # an announced page came back empty
    verdict = ledger.verdict()
    assert not verdict.ok
    assert verdict.problems == (
        HealthProblem("classes", "school:2", 3, 0, "the source counts 3 records, none arrived"),
        HealthProblem("students", "school:2", 250, 200, "1 of 3 announced pages came back empty"),
    )
    assert verdict.reasons()[0].startswith("classes (school:2):")
    # A count that fell to 0 while another said more: the source went dark for a while.
    dark = HealthLedger()
    dark.announced("courses", "school:3", 0)
    dark.page("courses", "school:3", 0, None)
    dark.announced("courses", "school:3", 9)
    assert dark.verdict().problems[0].expected == 9
    assert "and 0 at another" in dark.verdict().reasons()[0]
