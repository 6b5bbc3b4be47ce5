"""Incremental extraction: between full pulls only what changed is read (dateLastModified) and
folded into the previous extraction; the fold equals a full read of the same provider."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

import httpx
import polars as pl
import pytest
from rest_helpers import FaultyTransport, Provider, make

from rostersync.connectors import Baseline, Extraction
from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.model import ENTITIES, Roster

SCOPES = ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly")


@dataclasses.dataclass
class Upstream:
    provider: Provider
    district_id: int
    client_id: str
    secret: str

    def extract(
        self, baseline: Baseline | None = None, transport: FaultyTransport | None = None
    ) -> Extraction:
        async def run() -> Extraction:
            async with httpx.AsyncClient(timeout=30, transport=transport) as client:
                conn = make(client, self.provider.url, self.client_id, self.secret, page_size=40)
                return await conn.extract(baseline=baseline)

        return asyncio.run(run())

    def publish(self, roster: Roster) -> None:
        self.provider.store.publish(self.district_id, roster)


@pytest.fixture
def upstream(provider: Provider) -> Upstream:
    """A district of its own on the provider (its roster changes in these tests)."""
    district = provider.store.create_district(f"Delta {uuid.uuid4().hex[:6]}")
    provider.store.publish(district.id, provider.roster)
    issued = ApiClients(provider.store.engine, provider.settings.get_secret_key()).create(
        district.id, "delta", SCOPES, SharingRules.everything()
    )
    return Upstream(provider, district.id, issued.client.client_id, issued.client_secret)


def _sorted(roster: Roster) -> dict[str, pl.DataFrame]:
    return {n: t.sort("sourcedId") for n, t in roster.items()}


def _a_day_of_changes(roster: Roster) -> tuple[Roster, str, str]:
    users, enrollments = roster["users"], roster["enrollments"]
    renamed = users["sourcedId"].sort()[0]
    dropped = enrollments["sourcedId"].sort()[0]
    changed: dict[str, Any] = dict(roster)
    changed["users"] = users.with_columns(
        pl.when(pl.col("sourcedId") == renamed)
        .then(pl.lit("Renamed"))
        .otherwise("familyName")
        .alias("familyName")
    )
    changed["enrollments"] = enrollments.filter(pl.col("sourcedId") != dropped)
    return changed, renamed, dropped


def test_changes_are_folded_into_the_previous_extraction(upstream: Upstream) -> None:
    first = upstream.extract()
    assert first.stats["incremental"]["mode"] == "full"
    assert first.baseline is not None
    changed, renamed, dropped = _a_day_of_changes(upstream.provider.roster)
    upstream.publish(changed)

    second = upstream.extract(first.baseline)
    info = second.stats["incremental"]
    assert info["mode"] == "incremental"
    assert info["since"] == first.baseline.cursor
    assert info["changed"] == {"users": 1, "enrollments": 1}
    users = second.roster["users"]
    assert users.filter(pl.col("sourcedId") == renamed)["familyName"][0] == "Renamed"
    gone = second.roster["enrollments"].filter(pl.col("sourcedId") == dropped)
    assert gone["status"][0] == "tobedeleted"

    full = upstream.extract()
    for name in ENTITIES:
        assert _sorted(second.roster)[name].equals(_sorted(full.roster)[name]), name
    assert second.baseline is not None
    assert second.baseline.cursor > first.baseline.cursor
    assert second.baseline.full_at == first.baseline.full_at

    third = upstream.extract(second.baseline)
    assert third.stats["incremental"]["changed"] == {}


def test_a_baseline_for_another_scope_means_a_full_pull(upstream: Upstream) -> None:
    first = upstream.extract()
    assert first.baseline is not None
    other = dataclasses.replace(first.baseline, fingerprint="something else")
    again = upstream.extract(other)
    assert again.stats["incremental"] == {
        "mode": "full",
        "reason": "the provider, version or scope changed since the previous extraction",
    }


def test_a_provider_that_cannot_filter_gets_full_pulls(upstream: Upstream) -> None:
    def refuse_filters(request: httpx.Request) -> httpx.Response | None:
        if "filter" in request.url.params:
            return httpx.Response(400, json={"imsx_description": "filter is not supported"})
        return None

    first = upstream.extract()
    again = upstream.extract(first.baseline, FaultyTransport(fault=refuse_filters))
    assert again.stats["incremental"]["reason"] == "the provider cannot filter by dateLastModified"
    assert again.roster["users"].height == first.roster["users"].height
