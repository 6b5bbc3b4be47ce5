"""The connector conformance kit: one test class any connector's tests inherit.

As the Singer SDK ships ``get_tap_test_class``, rostersync ships :class:`ConnectorConformance`.
A connector package (ours or a third party's) subclasses it in a pytest module, names its
connector class and implements one hook, :meth:`ConnectorConformance.source`, that opens a
connector on a source of a given kind::

    class TestMyConnector(ConnectorConformance):
        connector_class = MyConnector
        secrets = ("the-client-secret",)

        @contextlib.asynccontextmanager
        async def source(self, kind):
            ...  # a connector on a healthy / empty / unreachable / partial-outage source
            yield connector

The inherited tests check the contract every caller relies on: the declared class members and
capabilities; every canonical table present with its schema; two extracts equal; a source that
cannot be read fails with a clear :class:`~rostersync.errors.SourceError` (and a failed
connection test); a source that sends less than it holds fails with a health verdict naming the
scopes; an empty source trips the circuit breaker; the secrets appear in no log, no error and no
``repr``. The tests are plain functions (they run their own event loop), so a connector's test
suite needs no asyncio plugin.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager, redirect_stderr, redirect_stdout
from typing import Any, ClassVar, Literal

import polars as pl
import pytest

from rostersync.connectors import checked_connector
from rostersync.connectors.base import (
    Capabilities,
    ConnectionReport,
    Connector,
    Extraction,
    RequestStats,
)
from rostersync.connectors.health import PartialExtractError, SourceHealth
from rostersync.errors import SourceError, SourceHealthError
from rostersync.model import ENTITIES

#: The sources a conformance test asks the hook for.
SourceKind = Literal["healthy", "empty", "unreachable", "partial_outage"]

#: ``(last accepted tables, candidate tables) -> reasons`` — the change flow's circuit breaker
#: (``rostersync.changes.health.check_source_health``), injected by the test module because a
#: connector package does not depend on the change flow.
CircuitBreaker = Callable[[Mapping[str, pl.DataFrame], Mapping[str, pl.DataFrame]], list[str]]


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def _sorted(table: pl.DataFrame) -> pl.DataFrame:
    return table.sort(table.columns, nulls_last=True) if table.height else table


class ConnectorConformance:
    """Inherit (in a class named ``Test…``) to run the connector contract's tests."""

    #: The connector class under test.
    connector_class: ClassVar[type[Connector]]
    #: Texts that must never appear in a log line, an error or a ``repr`` (client secrets…).
    secrets: ClassVar[tuple[str, ...]] = ()
    #: The circuit breaker that judges an empty source; None checks that the people and
    #: enrollment tables came back empty (what every breaker refuses).
    circuit_breaker: ClassVar[CircuitBreaker | None] = None

    def source(self, kind: SourceKind) -> AbstractAsyncContextManager[Connector | None]:
        """An async context manager giving a connector on a source of ``kind`` (None when the
        connector cannot be put in that situation: the test is skipped)."""
        raise NotImplementedError("a conformance test class implements source(kind)")

    # ------------------------------------------------------------------ helpers

    async def _extract(self, kind: SourceKind) -> Extraction:
        async with self.source(kind) as connector:
            if connector is None:
                pytest.skip(f"the connector cannot be tested on a {kind} source")
            return await connector.extract()

    async def _failure(self, kind: SourceKind) -> tuple[SourceError, ConnectionReport]:
        async with self.source(kind) as connector:
            if connector is None:
                pytest.skip(f"the connector cannot be tested on a {kind} source")
            report = await connector.test_connection()
            try:
                result = await connector.extract()
            except SourceError as exc:
                return exc, report
        raise AssertionError(
            f"the extract of a {kind} source did not fail: it returned "
            + ", ".join(f"{n} {t.height}" for n, t in result.roster.items())
        )

    # ------------------------------------------------------------------ the contract

    def test_declares_the_contract(self) -> None:
        cls = checked_connector(self.connector_class, self.connector_class.__name__)
        assert isinstance(cls.app, str)
        assert cls.app
        assert isinstance(cls.capabilities, Capabilities)
        assert cls.complete_snapshot == cls.capabilities.complete_snapshot

    def test_every_table_has_its_schema(self) -> None:
        result: Extraction = _run(self._extract("healthy"))
        assert set(result.roster) == set(ENTITIES)
        for name, entity in ENTITIES.items():
            table = result.roster[name]
            assert table.schema == entity.schema, f"{name}: {table.schema} != {entity.schema}"
            if table.height:
                assert table["sourcedId"].null_count() == 0, f"{name}: a record has no sourcedId"
                assert table["sourcedId"].is_unique().all(), f"{name}: duplicate sourcedIds"
        assert sum(t.height for t in result.roster.values()) > 0

    def test_extraction_reports_health_and_cost(self) -> None:
        result: Extraction = _run(self._extract("healthy"))
        assert isinstance(result.health, SourceHealth)
        assert result.health.ok, result.health.reasons()
        assert isinstance(result.requests, RequestStats)
        json.dumps(result.stats)  # a run record stores it as JSON

    def test_two_extracts_are_equal(self) -> None:
        first: Extraction = _run(self._extract("healthy"))
        second: Extraction = _run(self._extract("healthy"))
        for name in ENTITIES:
            a, b = _sorted(first.roster[name]), _sorted(second.roster[name])
            assert a.equals(b), f"{name} differs between two extracts of the same source"

    def test_a_source_that_cannot_be_read_gives_a_clear_error(self) -> None:
        error, report = _run(self._failure("unreachable"))
        assert not report.ok
        assert report.message
        assert error.message
        assert "Traceback" not in error.message
        assert not isinstance(error, SourceHealthError)

    def test_a_partial_outage_gives_a_health_verdict(self) -> None:
        error, _ = _run(self._failure("partial_outage"))
        assert isinstance(error, PartialExtractError), f"not a health verdict: {error!r}"
        assert not error.health.ok
        assert all(p.entity and p.scope for p in error.health.problems)
        assert error.health.reasons()[0] in error.message

    def test_an_empty_source_trips_the_circuit_breaker(self) -> None:
        base: Extraction = _run(self._extract("healthy"))

        async def empty() -> Extraction | SourceError:
            try:
                return await self._extract("empty")
            except SourceError as exc:
                return exc  # refusing an empty source outright is fine too

        candidate = _run(empty())
        if isinstance(candidate, SourceError):
            assert candidate.message
            return
        breaker = type(self).circuit_breaker
        if breaker is not None:
            assert breaker(base.roster, candidate.roster), "the circuit breaker let it through"
        else:
            for name in ("users", "enrollments"):
                assert candidate.roster[name].height == 0

    def test_secrets_are_never_shown(self) -> None:
        if not self.secrets:
            pytest.skip("no secrets declared")
        out, err = io.StringIO(), io.StringIO()
        records: list[str] = []

        class Keep(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                records.append(self.format(record))

        handler = Keep(logging.DEBUG)
        root = logging.getLogger()
        level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        shown: list[str] = []
        try:
            with redirect_stdout(out), redirect_stderr(err):

                async def everything() -> None:
                    kinds: tuple[SourceKind, ...] = ("healthy", "unreachable", "partial_outage")
                    for kind in kinds:
                        async with self.source(kind) as connector:
                            if connector is None:
                                continue
                            shown.append(repr(connector))
                            shown.append(json.dumps((await connector.test_connection()).to_dict()))
                            try:
                                result = await connector.extract()
                                shown.append(json.dumps(result.stats))
                            except SourceError as exc:
                                shown.extend([str(exc), repr(exc), exc.hint or ""])

                _run(everything())
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
        text = "\n".join([out.getvalue(), err.getvalue(), *records, *shown])
        for secret in self.secrets:
            assert secret not in text, "a secret was shown in a log, an error or a repr"
