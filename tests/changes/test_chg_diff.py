"""Change sets: exact added/updated/deleted with field-level before/after, and the diff laws."""

from __future__ import annotations

import polars as pl
import pytest
from changes_data import make_roster, with_tweaks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rostersync.changes.diff import apply_changes, diff_rosters
from rostersync.errors import SourceDataError
from rostersync.model import ENTITIES, conform


def test_exact_changes_with_field_level_before_after() -> None:
    day1 = make_roster(200)
    day2 = with_tweaks(day1, rename=3, drop=5, add=4, deactivate=2)
    cs = diff_rosters(day1, day2)
    users = cs.entities["users"]
    assert users.counts() == {
        "base": 200,
        "candidate": 199,
        "added": 4,
        "updated": 5,
        "deleted": 5,
        "deactivated": 2,
    }
    assert users.added["sourcedId"].to_list() == ["new0", "new1", "new2", "new3"]
    assert sorted(users.deleted["sourcedId"]) == sorted(f"u{i}" for i in range(195, 200))
    renamed = users.fields.filter(pl.col("field") == "givenName")
    assert renamed.rows() == [
        ("u0", "givenName", "Given0", "Given0-renamed"),
        ("u1", "givenName", "Given1", "Given1-renamed"),
        ("u2", "givenName", "Given2", "Given2-renamed"),
    ]
    status = users.fields.filter(pl.col("field") == "status")
    assert status.rows() == [
        ("u3", "status", "active", "tobedeleted"),
        ("u4", "status", "active", "tobedeleted"),
    ]
    assert cs.entities["classes"].total == 0
    assert cs.total == 14


def test_absence_changes_nothing_outside_bulk_upload() -> None:
    day1 = make_roster(50)
    day2 = with_tweaks(day1, drop=10)
    cs = diff_rosters(day1, day2, bulk_upload=False)
    assert cs.entities["users"].deleted.height == 0
    assert cs.is_empty()
    assert apply_changes(day1, cs)["users"].height == 50


def test_list_columns_show_before_after_as_text() -> None:
    day1 = make_roster(20)
    day2 = dict(day1)
    day2["users"] = day1["users"].with_columns(
        pl.when(pl.col("sourcedId") == "u1")
        .then(pl.concat_list(pl.lit("sch-1"), pl.lit("sch-2")))
        .otherwise(pl.col("orgSourcedIds"))
        .alias("orgSourcedIds")
    )
    fields = diff_rosters(day1, day2).entities["users"].fields
    assert fields.rows() == [("u1", "orgSourcedIds", "[sch-1]", "[sch-1, sch-2]")]


def test_duplicate_sourced_ids_are_a_clear_error() -> None:
    day1 = make_roster(10)
    day2 = dict(day1)
    day2["users"] = pl.concat([day1["users"], day1["users"].head(1)])
    with pytest.raises(SourceDataError, match=r"users: 1 sourcedId.*'u0'"):
        diff_rosters(day1, day2)


def _sorted(roster: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    return {k: conform(k, v).sort("sourcedId") for k, v in roster.items()}


tweaks = st.fixed_dictionaries(
    {
        "rename": st.integers(0, 30),
        "drop": st.integers(0, 30),
        "add": st.integers(0, 30),
        "deactivate": st.integers(0, 30),
    }
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n=st.integers(0, 60), t=tweaks)
def test_diff_with_itself_is_empty(n: int, t: dict[str, int]) -> None:
    roster = with_tweaks(make_roster(n), **{k: min(v, n) for k, v in t.items() if k != "add"})
    assert diff_rosters(roster, roster).is_empty()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n=st.integers(0, 60), t=tweaks, bulk=st.booleans())
def test_apply_diff_reproduces_target(n: int, t: dict[str, int], bulk: bool) -> None:
    a = make_roster(n)
    rename, deactivate = min(t["rename"], n), min(t["deactivate"], max(n - t["rename"], 0))
    b = with_tweaks(a, rename=rename, deactivate=deactivate, drop=min(t["drop"], n), add=t["add"])
    applied = _sorted(apply_changes(a, diff_rosters(a, b, bulk_upload=bulk)))
    expected = _sorted(b)
    if not bulk:  # records absent from B are carried over from A
        expected["users"] = pl.concat(
            [expected["users"], a["users"].join(b["users"], on="sourcedId", how="anti")]
        ).sort("sourcedId")
    for name in ENTITIES:
        assert applied[name].equals(expected[name]), name
