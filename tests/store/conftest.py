"""Store test fixtures: small synthetic rosters that exercise every column type."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from rostersync.model import ENTITIES, Roster, conform, empty_roster
from rostersync.store import District, Store

RosterFactory = Callable[..., Roster]

_NAMES = ["Ann", "Bo", "Zoë", "Łukasz", "O'Brien", "Nguyễn", "", 'A, "quoted"\nname', "李"]


def _roster(n_users: int = 40, seed: int = 1) -> Roster:
    """A small roster with nulls, empty strings, unicode, lists, dates, timestamps and booleans."""
    rnd = random.Random(seed)
    t0 = datetime(2025, 8, 1, 7, 30, tzinfo=UTC)
    users = pl.DataFrame(
        {
            "sourcedId": [f"ps-u-{i:05d}" for i in range(n_users)],
            "status": ["active"] * n_users,
            "dateLastModified": [
                None if i % 7 == 0 else t0 + timedelta(seconds=i * 3601, microseconds=i)
                for i in range(n_users)
            ],
            "source": ["powerschool"] * n_users,
            "sourceId": [str(1000 + i) for i in range(n_users)],
            "metadata": [None if i % 3 else f'{{"lunch":"{i}"}}' for i in range(n_users)],
            "enabledUser": [None if i % 11 == 0 else bool(i % 2) for i in range(n_users)],
            "username": [f"user{i}" for i in range(n_users)],
            "userIds": [
                None if i % 5 == 0 else [] if i % 5 == 1 else [f"sis:{i}", "x,y"]
                for i in range(n_users)
            ],
            "givenName": [rnd.choice(_NAMES) for _ in range(n_users)],
            "familyName": [rnd.choice(_NAMES) for _ in range(n_users)],
            "role": [rnd.choice(["student", "teacher", "guardian"]) for _ in range(n_users)],
            "grades": [["09"] if i % 2 else None for i in range(n_users)],
            "birthDate": [
                None if i % 4 == 0 else date(2008, 1, 1) + timedelta(days=i) for i in range(n_users)
            ],
        }
    )
    enrollments = pl.DataFrame(
        {
            "sourcedId": [f"ps-e-{i:05d}" for i in range(n_users * 2)],
            "status": ["active"] * (n_users * 2),
            "source": ["powerschool"] * (n_users * 2),
            "sourceId": [str(i) for i in range(n_users * 2)],
            "classSourcedId": [f"ps-c-{i % 5}" for i in range(n_users * 2)],
            "schoolSourcedId": ["ps-s-1"] * (n_users * 2),
            "userSourcedId": [f"ps-u-{i // 2:05d}" for i in range(n_users * 2)],
            "role": ["student"] * (n_users * 2),
            "primary": [None if i % 3 else i % 2 == 0 for i in range(n_users * 2)],
            "beginDate": [date(2025, 8, 20)] * (n_users * 2),
        }
    )
    orgs = pl.DataFrame(
        {
            "sourcedId": ["ps-d-1", "ps-s-1"],
            "status": ["active", "active"],
            "source": ["powerschool"] * 2,
            "sourceId": ["0", "1"],
            "name": ["Springfield", "Springfield High"],
            "type": ["district", "school"],
            "parentSourcedId": [None, "ps-d-1"],
        }
    )
    roster = empty_roster()
    roster["users"] = conform("users", users)
    roster["enrollments"] = conform("enrollments", enrollments)
    roster["orgs"] = conform("orgs", orgs)
    return roster


@pytest.fixture
def make_roster() -> RosterFactory:
    """Build a small synthetic roster: ``make_roster(n_users=40, seed=1)``."""
    return _roster


@pytest.fixture
def district(store: Store) -> District:
    return store.create_district("Springfield Public Schools")


def assert_roster_equal(actual: Roster, expected: Roster, *, stamped: bool = True) -> None:
    """Every table equal in content, row for row, after sorting by sourcedId; every record read
    back carries the store's ``dateLastModified`` stamp (unless ``stamped`` is False: a store
    downgraded below 0014), which replaced the candidate's."""
    assert set(actual) == set(expected)
    for name, table in expected.items():
        want = table.sort("sourcedId")
        got = actual[name]
        assert got.schema == want.schema, name
        if stamped:
            assert got["dateLastModified"].null_count() == 0, f"{name} has unstamped records"
        content = ENTITIES[name].content_names
        assert got.select(content).equals(want.select(content)), f"{name} differs"


@pytest.fixture
def roster_equal() -> Callable[[Roster, Roster], None]:
    return assert_roster_equal
