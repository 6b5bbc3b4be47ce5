"""Fixtures: a roster made through the real path (simulator → PowerSchool connector → pipeline),
and OneRoster CSV packages written from it by rostersync's own exporter."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from csv_helpers import DISTRICT_CONFIG, PackageFactory

from rostersync.config import validate_config
from rostersync.connectors.powerschool import ExtractPlan, PowerSchoolConnector
from rostersync.export.oneroster.csv_export import write_package
from rostersync.model import Roster
from rostersync.pipeline import run_pipeline
from rostersync.simulators.powerschool import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SimulatorConfig,
    generate_district,
    run_simulator,
)


async def _extract(url: str) -> Roster:
    async with httpx.AsyncClient(timeout=30) as client:
        conn = PowerSchoolConnector.create(
            client, url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, plan=ExtractPlan(source="sis")
        )
        return (await conn.extract()).roster


@pytest.fixture(scope="session")
def sis_roster() -> Roster:
    """The tiny simulated district, extracted and run through the pipeline."""
    with run_simulator(generate_district("tiny", seed=3), SimulatorConfig()) as sim:
        extracted = asyncio.run(_extract(sim.url))
    config = validate_config(DISTRICT_CONFIG, "test")
    roster, _ = run_pipeline({"sis": extracted}, config)
    return roster


@pytest.fixture
def make_package(sis_roster: Roster, tmp_path: Path) -> PackageFactory:
    """``make_package(version, name, zip=False, previous=None)``: a package written by the
    exporter (a folder, or a .zip)."""

    def make(
        version: str = "1.2",
        name: str = "pkg",
        *,
        zip: bool = False,
        previous: Roster | None = None,
        roster: Roster | None = None,
    ) -> Path:
        out = tmp_path / (f"{name}.zip" if zip else name)
        write_package(out, roster or sis_roster, version, previous=previous)
        return out

    return make
