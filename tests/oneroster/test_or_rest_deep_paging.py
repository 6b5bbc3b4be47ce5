"""Deep offsets (served from per-version anchors) return exactly the rows plain OFFSET would,
with filters and sharing rules, and a new publish is served with fresh counts and anchors."""

from __future__ import annotations

import polars as pl
import pytest
from or_provider import V12, Provider
from or_sample_roster import small_roster

from rostersync.model import Roster, conform

N = 2600


def big_roster(n: int) -> Roster:
    roster = small_roster()
    ids = [f"u-x{i:05d}" for i in range(n)]
    extra = conform(
        "users",
        pl.DataFrame(
            {
                "sourcedId": ids,
                "status": ["active"] * n,
                "source": ["sis"] * n,
                "sourceId": ids,
                "enabledUser": [True] * n,
                "username": ids,
                "identifier": [f"id{i}" for i in range(n)],
                "givenName": ["Kid"] * n,
                "familyName": [("Even" if i % 2 == 0 else "Odd") for i in range(n)],
                "role": ["student"] * n,
                "orgSourcedIds": [["org-s1"] if i % 3 else ["org-s2"] for i in range(n)],
            }
        ),
    )
    roster["users"] = pl.concat([roster["users"], extra])
    return roster


def walk(provider: Provider, client: str, **params: str) -> tuple[list[str], int]:
    resp = provider.get(f"{V12}/users", client=client, **params)
    assert resp.status_code == 200, resp.text
    return [u["sourcedId"] for u in resp.json()["users"]], int(resp.headers["X-Total-Count"])


@pytest.fixture(scope="module")
def expected_ids(provider: Provider) -> list[str]:
    roster = big_roster(N)
    provider.store.publish(provider.district_id, roster)
    return sorted(roster["users"]["sourcedId"].to_list())


@pytest.mark.parametrize("offset", [0, 999, 1000, 1001, 1999, 2000, 2550, N + 6, N + 7, N + 50])
def test_deep_offsets_match_plain_offsets(
    provider: Provider, expected_ids: list[str], offset: int
) -> None:
    got, total = walk(provider, "full", limit="60", offset=str(offset))
    assert total == len(expected_ids)
    assert got == expected_ids[offset : offset + 60]


def test_deep_offsets_with_a_filter(provider: Provider, expected_ids: list[str]) -> None:
    odd = [i for i in expected_ids if i.startswith("u-x") and int(i[3:]) % 2]
    got, total = walk(provider, "full", limit="100", offset="1250", filter="familyName='Odd'")
    assert total == len(odd)
    assert got == odd[1250:1350]


def test_deep_offsets_with_sharing(provider: Provider, expected_ids: list[str]) -> None:
    visible = sorted(
        i
        for i in expected_ids
        if (i.startswith("u-x") and int(i[3:]) % 3) or i in ("u-s1", "u-s2", "u-t1", "u-g1")
    )
    got, total = walk(provider, "north", limit="100", offset="1500")
    assert total == len(visible)
    assert got == visible[1500:1600]


def test_next_publish_is_served_with_fresh_counts(
    provider: Provider, expected_ids: list[str]
) -> None:
    walk(provider, "full", limit="10", offset="2000")  # warm the cache for this version
    smaller = big_roster(N - 500)
    provider.store.publish(provider.district_id, smaller)
    now = sorted(smaller["users"]["sourcedId"].to_list())
    got, total = walk(provider, "full", limit="10", offset="2000")
    assert total == len(now)
    assert got == now[2000:2010]
