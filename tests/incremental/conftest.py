"""Fixtures of the incremental-extraction tests: tiny districts, one just before rollover."""

from __future__ import annotations

import dataclasses

import pytest

from rostersync.simulators.powerschool import District, generate_district

#: The simulator's first day of the next school year (2026-08-19, see its district docs).
ROLLOVER_DAY = 359


@pytest.fixture(scope="session")
def _before_rollover() -> District:
    # Living ~360 days takes a while: generated once, copied per test (days change tables).
    return generate_district("tiny", seed=5, day=ROLLOVER_DAY - 2)


@pytest.fixture
def before_rollover(_before_rollover: District) -> District:
    """A tiny district two days before the next school year's terms and sections appear."""
    return dataclasses.replace(_before_rollover, tables=dict(_before_rollover.tables))
