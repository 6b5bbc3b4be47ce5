"""The OneRoster CSV connector passes the connector conformance kit, on exported packages."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import ClassVar

import pytest
from csv_helpers import PackageFactory, connector, lines, set_manifest

from rostersync.changes.health import check_source_health
from rostersync.connectors import get_connector_class
from rostersync.connectors.base import Connector
from rostersync.connectors.oneroster_csv import OneRosterCsvConnector
from rostersync.connectors.testing import CircuitBreaker, ConnectorConformance, SourceKind


def test_registered_under_its_app_name() -> None:
    assert get_connector_class("oneroster_csv") is OneRosterCsvConnector


class TestOneRosterCsvConformance(ConnectorConformance):
    connector_class: ClassVar[type[Connector]] = OneRosterCsvConnector
    circuit_breaker: ClassVar[CircuitBreaker | None] = staticmethod(check_source_health)

    packages: dict[str, Path]

    @pytest.fixture(autouse=True)
    def _packages(self, make_package: PackageFactory, tmp_path: Path) -> None:
        healthy = make_package("1.2", "healthy")
        empty = make_package("1.2", "empty")
        for f in empty.glob("*.csv"):
            if f.name != "manifest.csv":
                f.write_text(lines(empty, f.name)[0] + "\r\n", encoding="utf-8")
        partial = make_package("1.2", "partial")
        (partial / "enrollments.csv").unlink()
        set_manifest(partial, "file.enrollments", "bulk")
        self.packages = {
            "healthy": healthy,
            "empty": empty,
            "partial_outage": partial,
            "unreachable": tmp_path / "nowhere.zip",
        }

    @contextlib.asynccontextmanager
    async def source(self, kind: SourceKind) -> AsyncIterator[Connector | None]:
        yield connector(self.packages[kind])
