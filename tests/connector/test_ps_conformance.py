"""The PowerSchool connector passes the connector conformance kit, on the simulator over HTTP."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
from collections.abc import AsyncIterator, Iterator
from typing import ClassVar

import httpx
import pytest
from ps_helpers import FAST, make_connector

from rostersync.changes.health import check_source_health
from rostersync.connectors.base import Connector
from rostersync.connectors.powerschool import ExtractPlan, PowerSchoolConnector
from rostersync.connectors.testing import CircuitBreaker, ConnectorConformance, SourceKind
from rostersync.simulators.powerschool import (
    DEFAULT_CLIENT_SECRET,
    District,
    RunningSimulator,
    SimulatorConfig,
    run_simulator,
)

PLAN = ExtractPlan(sync_co_teachers=True)


def _refused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture(scope="module")
def conformance_sim(tiny_district: District) -> Iterator[RunningSimulator]:
    with run_simulator(tiny_district, SimulatorConfig()) as running:
        yield running


class TestPowerSchoolConformance(ConnectorConformance):
    connector_class: ClassVar[type[Connector]] = PowerSchoolConnector
    secrets = (DEFAULT_CLIENT_SECRET,)
    circuit_breaker: ClassVar[CircuitBreaker | None] = staticmethod(check_source_health)

    sim: RunningSimulator

    @pytest.fixture(autouse=True)
    def _simulator(self, conformance_sim: RunningSimulator) -> None:
        self.sim = conformance_sim

    @contextlib.asynccontextmanager
    async def source(self, kind: SourceKind) -> AsyncIterator[Connector | None]:
        faults = self.sim.config.faults
        url = self.sim.url
        if kind == "empty":
            self.sim.config.faults = dataclasses.replace(faults, outage=True)
        elif kind == "partial_outage":
            # The outage begins once the schools and a few counts were read.
            point = self.sim.simulator.requests + 12
            self.sim.config.faults = dataclasses.replace(faults, outage_after_requests=point)
        elif kind == "unreachable":
            url = _refused_url()
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                yield make_connector(url, client, plan=PLAN, options=FAST)
        finally:
            self.sim.config.faults = faults
