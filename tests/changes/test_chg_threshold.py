"""Hold threshold: limits per entity, type and school; monotone in the number of changes."""

from __future__ import annotations

from datetime import date

import pytest
from changes_data import make_roster, with_tweaks
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from rostersync.changes.diff import diff_rosters
from rostersync.changes.threshold import HoldThreshold, evaluate


def test_defaults_hold_above_ten_percent_deletes() -> None:
    day1 = make_roster(100)
    assert evaluate(diff_rosters(day1, with_tweaks(day1, drop=10)), HoldThreshold()) == []
    trips = evaluate(diff_rosters(day1, with_tweaks(day1, drop=30)), HoldThreshold())
    assert [(t.scope, t.kind, t.count, t.base, t.limit) for t in trips] == [
        ("users", "delete", 30, 100, "10%")
    ]
    assert str(trips[0]) == "users: 30 deletes of 100 records (30.0%) exceeds the limit 10%"


def test_deactivations_count_as_deletes_and_updates_over_75_percent_hold() -> None:
    day1 = make_roster(100)
    trips = evaluate(diff_rosters(day1, with_tweaks(day1, deactivate=11)), HoldThreshold())
    assert [(t.kind, t.count) for t in trips] == [("delete", 11)]
    trips = evaluate(diff_rosters(day1, with_tweaks(day1, rename=80)), HoldThreshold())
    assert [(t.kind, t.count) for t in trips] == [("update", 80)]


def test_counts_type_overrides_and_per_school() -> None:
    day1 = make_roster(90, n_schools=3)
    day2 = with_tweaks(day1, add=6)
    assert evaluate(diff_rosters(day1, day2), HoldThreshold()) == []
    th = HoldThreshold(create_count=5)
    assert [(t.scope, t.kind, t.count) for t in evaluate(diff_rosters(day1, day2), th)] == [
        ("users", "create", 6)
    ]
    # 9 of 90 users are teachers (i % 10 == 0); dropping u79..u89 drops 10 students, 1 teacher
    th = HoldThreshold(entities={"student": {"delete_count": 3}, "teacher": {"delete_count": 0}})
    trips = evaluate(diff_rosters(day1, with_tweaks(day1, drop=11)), th)
    assert sorted((t.scope, t.kind, t.count) for t in trips) == [
        ("student", "delete", 10),
        ("teacher", "delete", 1),
        ("users", "delete", 11),
    ]
    # per school: users 84..89 are in schools 0,1,2 twice each -> 2 of 30 per school (6.7 %)
    th = HoldThreshold(per_school=True, delete_percent=5)
    trips = evaluate(diff_rosters(day1, with_tweaks(day1, drop=6)), th)
    assert sorted((t.scope, t.school, t.count) for t in trips if t.school) == [
        ("users", "sch-0", 2),
        ("users", "sch-1", 2),
        ("users", "sch-2", 2),
    ]


def test_unknown_entities_and_bad_windows_are_refused() -> None:
    with pytest.raises(ValidationError, match="unknown entity pupils"):
        HoldThreshold(entities={"pupils": {"delete_count": 1}})
    with pytest.raises(ValidationError, match="before start"):
        HoldThreshold(
            rollover_windows=[{"kind": "no_deletions", "start": "2026-08-01", "end": "2026-06-01"}]
        )
    th = HoldThreshold(allow_over_threshold_until=date(2026, 8, 31))
    assert th.override_active(date(2026, 8, 31))
    assert not th.override_active(date(2026, 9, 1))


limits = st.fixed_dictionaries(
    {},
    optional={
        "delete_percent": st.sampled_from([None, 0, 5, 10, 50]),
        "update_percent": st.sampled_from([None, 0, 20, 75]),
        "create_count": st.sampled_from([None, 0, 3, 20]),
        "delete_count": st.sampled_from([None, 0, 3, 20]),
        "per_school": st.booleans(),
    },
)


@settings(max_examples=40, deadline=None)
@given(
    cfg=limits,
    rename=st.integers(0, 40),
    drop=st.integers(0, 40),
    add=st.integers(0, 40),
    more=st.integers(0, 20),
    which=st.sampled_from(["rename", "drop", "add"]),
)
def test_hold_decision_is_monotone_in_the_number_of_changes(
    cfg: dict[str, object], rename: int, drop: int, add: int, more: int, which: str
) -> None:
    th = HoldThreshold.model_validate(cfg)
    day1 = make_roster(100)
    few = {"rename": rename, "drop": drop, "add": add}
    many = dict(few)
    many[which] += more
    if many["rename"] + many["drop"] > 100:
        return
    held_few = bool(evaluate(diff_rosters(day1, with_tweaks(day1, **few)), th))
    held_many = bool(evaluate(diff_rosters(day1, with_tweaks(day1, **many)), th))
    assert held_many or not held_few
