"""Circuit breaker (a broken extract is never "everyone left") and rollover windows."""

from __future__ import annotations

from datetime import date

import polars as pl
from changes_data import make_roster, with_tweaks

from rostersync.changes.diff import apply_changes, diff_rosters
from rostersync.changes.health import check_source_health
from rostersync.changes.threshold import RolloverWindow
from rostersync.changes.windows import apply_windows, window_note
from rostersync.model import conform, empty_roster


def test_healthy_day_passes() -> None:
    day1 = make_roster(60)
    assert check_source_health(day1, with_tweaks(day1, drop=3, add=2)) == []
    assert check_source_health(empty_roster(), day1) == []


def test_outage_empty_and_header_only_extracts_fail() -> None:
    day1 = make_roster(60)
    assert check_source_health(day1, empty_roster()) == [
        "the extract has no records at all (an outage or a file with only headers)"
    ]
    assert check_source_health(empty_roster(), empty_roster())  # a first run with nothing, too
    no_users = dict(day1)
    no_users["users"] = day1["users"].clear()
    reasons = check_source_health(day1, no_users)
    assert reasons == [
        "users: the source 'sis' returned no records where the last accepted version has 60 "
        "(an outage or an empty file, not a mass deletion)"
    ]
    assert check_source_health(day1, day1, extract_error="HTTP 503") == [
        "the extract failed: HTTP 503"
    ]


def test_lost_school_fails() -> None:
    day1 = make_roster(60, n_schools=3)
    day2 = dict(day1)
    day2["users"] = day1["users"].filter(pl.col("primaryOrgSourcedId") != "sch-2")
    day2["classes"] = day1["classes"].filter(pl.col("schoolSourcedId") != "sch-2")
    reasons = check_source_health(day1, day2)
    tail = "while the school is still sent (a partial outage of the source, not deletions)"
    assert reasons == [
        f"school:sch-2: classes of the source 'sis' fell from 2 in the last accepted version "
        f"to none now {tail}",
        f"school:sch-2: users of the source 'sis' fell from 20 in the last accepted version "
        f"to none now {tail}",
    ]


def test_no_deletions_window_keeps_records_and_reports_them() -> None:
    day1 = make_roster(50)
    day2 = with_tweaks(day1, rename=2, drop=5, deactivate=3, add=1)
    cs = diff_rosters(day1, day2)
    windows = [RolloverWindow(kind="no_deletions", start=date(2026, 6, 1), end=date(2026, 8, 15))]
    same, held = apply_windows(cs, windows, date(2026, 9, 1))
    assert same is cs
    assert held == {}
    kept, held = apply_windows(cs, windows, date(2026, 6, 1))
    assert held == {"users": {"updated": 3, "deleted": 5}}
    assert window_note(held) == "rollover window held back users: 3 updates, 5 deletions"
    users = apply_changes(day1, kept)["users"]
    assert users.height == 51
    assert users.filter(pl.col("status") == "tobedeleted").height == 0
    assert users.filter(pl.col("givenName").str.ends_with("-renamed")).height == 2


def test_additions_only_window() -> None:
    day1 = make_roster(50)
    day2 = with_tweaks(day1, rename=2, drop=5, add=4)
    windows = [RolloverWindow(kind="additions_only", start=date(2026, 6, 1), end=date(2026, 6, 30))]
    kept, held = apply_windows(diff_rosters(day1, day2), windows, date(2026, 6, 30))
    assert held == {"users": {"updated": 2, "deleted": 5}}
    users = apply_changes(day1, kept)["users"]
    assert users.height == 54
    assert users.filter(pl.col("givenName").str.ends_with("-renamed")).height == 0
    assert kept.entities["users"].counts()["added"] == 4


def _with_enrollments(roster: dict[str, pl.DataFrame], per_class: int) -> dict[str, pl.DataFrame]:
    out = dict(roster)
    classes = roster["classes"].select("sourcedId", "schoolSourcedId", "source")
    k = pl.DataFrame({"k": pl.int_range(0, per_class, eager=True)})
    rows = classes.join(k, how="cross").select(
        pl.format("e-{}-{}", pl.col("sourcedId"), pl.col("k")).alias("sourcedId"),
        pl.lit("active").alias("status"),
        "source",
        pl.col("sourcedId").alias("classSourcedId"),
        "schoolSourcedId",
        pl.format("u{}", pl.col("k")).alias("userSourcedId"),
        pl.when(pl.col("k") == 0)
        .then(pl.lit("teacher"))
        .otherwise(pl.lit("student"))
        .alias("role"),
    )
    out["enrollments"] = conform("enrollments", rows)
    return out


def test_scopes_still_sent_that_lost_their_records_fail() -> None:
    day1 = _with_enrollments(make_roster(300, n_schools=3), per_class=8)  # 30 classes
    # one class still sent whose 8 enrollments all vanished
    day2 = dict(day1)
    day2["enrollments"] = day1["enrollments"].filter(pl.col("classSourcedId") != "c4")
    assert check_source_health(day1, day2) == [
        "class:c4: its 8 enrollments from the source 'sis' all vanished while the class is still "
        "sent (a partial outage of the source, not deletions)"
    ]
    # every teacher enrollment gone (one query answered empty), students' stay
    day3 = dict(day1)
    day3["enrollments"] = day1["enrollments"].filter(pl.col("role") != "teacher")
    reasons = check_source_health(day1, day3)
    assert [r.split(":")[0] + ":" + r.split(":")[1] for r in reasons] == [
        "school:sch-0",
        "school:sch-1",
        "school:sch-2",
    ]
    assert "teacher enrollments of the source 'sis' fell from 10" in reasons[0]
    # a school keeping under a quarter of its users while still sent
    day4 = dict(day1)
    users = day1["users"]
    day4["users"] = users.filter(
        (pl.col("primaryOrgSourcedId") != "sch-1") | (pl.int_range(0, pl.len()) < 30)
    )
    reasons = check_source_health(day1, day4)
    assert len(reasons) == 1
    assert reasons[0].startswith("school:sch-1: users of the source 'sis' fell from 100 ")
    assert "to only 10 now" in reasons[0]
    # a rollover-size change (60 % of every school) and a class dissolved with its record: fine
    assert check_source_health(day1, with_tweaks(day1, drop=180)) == []
    day5 = dict(day1)
    day5["classes"] = day1["classes"].filter(pl.col("sourcedId") != "c4")
    day5["enrollments"] = day2["enrollments"]
    assert check_source_health(day1, day5) == []


def test_many_emptied_classes_are_named_up_to_a_bound_then_counted() -> None:
    """An outage over thousands of classes gives ten named reasons and one count, not thousands."""
    day1 = _with_enrollments(make_roster(300, n_schools=3), per_class=8)  # 30 classes
    gone = [f"c{i}" for i in range(0, 30, 2)]  # 15 classes across the three schools
    day2 = dict(day1)
    day2["enrollments"] = day1["enrollments"].filter(~pl.col("classSourcedId").is_in(gone))
    reasons = [r for r in check_source_health(day1, day2) if r.startswith("class:")]
    named = sorted(gone)[:10]
    assert [r.split(":")[1] for r in reasons[:10]] == named
    assert reasons[10] == (
        "class:…: 5 more classes of the source 'sis' lost all their enrollments (40 in all) the "
        "same way while still sent (the first 10 are named above)"
    )
    assert len(reasons) == 11
