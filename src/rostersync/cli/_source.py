"""A source of a district configuration, from the command line: pick it, call its connector.

The connector commands (`rostersync powerschool test`, `rostersync ldap schools`, …) share this:
the configuration's source of one app, its client secret resolved (``store:NAME`` references
too), and one call on its connector with the HTTP client closed afterwards; a connection test's
failure printed the same way for every app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx

from rostersync.admin.secrets import lookup_by_district_name
from rostersync.cli._app import console, get_settings
from rostersync.config import DistrictConfig, SourceConfig, load_config
from rostersync.connectors.base import ConnectionReport
from rostersync.sync.sources import resolve_client_secret

C = TypeVar("C")
T = TypeVar("T")


def call_connector(
    config_path: Path,
    source_name: str | None,
    pick: Callable[[DistrictConfig, str | None], tuple[int, SourceConfig]],
    make: Callable[[SourceConfig, str], tuple[C, httpx.AsyncClient]],
    call: Callable[[C], Awaitable[T]],
) -> T:
    """``call(connector)`` on the source ``pick`` chooses, made by ``make`` (a connector class's
    ``from_source``); the connector's HTTP client is closed afterwards."""
    config = load_config(config_path)
    index, source = pick(config, source_name)
    lookup = lookup_by_district_name(get_settings(), config.district)  # store:NAME references
    secret = resolve_client_secret(source, get_settings(), index, store_lookup=lookup)
    connector, client = make(source, secret)

    async def go() -> T:
        try:
            return await call(connector)
        finally:
            await client.aclose()

    return asyncio.run(go())


def print_failure(report: ConnectionReport) -> None:
    """A failed connection test: its message and, when it has one, what to do."""
    console.print(f"[red]failed[/red] {report.message}")
    if report.hint:
        console.print(f"hint: {report.hint}")
