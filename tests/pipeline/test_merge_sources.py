"""Several sources into one roster: uniqueness domains across sources, provenance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from pipeline_factories import ids, load, roster, user

from rostersync.config import DistrictConfig
from rostersync.model import Roster
from rostersync.pipeline import DECISIONS_SCHEMA, match_across_sources, run_pipeline

SHARING = {"advanced": {"multiple_sources": True, "sis_prefix": "ps-"}}


def ad_source(**advanced: Any) -> dict[str, Any]:
    return {
        "name": "ad",
        "app": "powerschool",
        "delivery": {"url": "http://ad", "client_id": "x", "client_secret": "env:AD"},
        "advanced": {"multiple_sources": True, "sis_prefix": "ad-", **advanced},
        "uniqueness_domains": {"student": ["email"], "teacher": ["email"]},
    }


def sis_roster() -> Roster:
    return roster(
        users=[
            user("1", "student", "Ana", "Lopez", email="ana@x.org", phone=None),
            user("2", "student", "Bo", "Chen", email="bo@x.org", phone="555"),
            user("3", "student", "Cy", "Diaz", email=None),
            user("9", "teacher", "Ada", "Byron", email="ada@x.org"),
        ],
        classes=[
            {
                "sourcedId": "k1",
                "title": "Algebra",
                "courseSourcedId": "c1",
                "classType": "scheduled",
                "schoolSourcedId": "s1",
                "termSourcedIds": ["t1"],
            }
        ],
        enrollments=[
            {
                "sourcedId": "e1",
                "classSourcedId": "k1",
                "schoolSourcedId": "s1",
                "userSourcedId": "1",
                "role": "student",
            }
        ],
    )


def ad_roster() -> Roster:
    return roster(
        source="ad",
        users=[
            user("a", "student", "Anna", "Lopez", email="ANA@x.org", phone="777", username="alo"),
            user("b", "student", "Bo", "Chen", email="bo@x.org", phone="", username="bchen"),
            user("c", "student", "Cy", "Diaz", email="cy@x.org", username="cdiaz"),
            # the same email as the SIS teacher, but a student here: types never merge
            user("d", "student", "Ada", "Byron", email="ada@x.org", username="abyron"),
        ],
    )


def both(tmp_path: Path, *, sis: dict[str, Any] | None = None, **top: Any) -> DistrictConfig:
    return load(tmp_path, [sis if sis is not None else SHARING, ad_source()], **top)


def rows(out: Roster) -> dict[str, dict[str, Any]]:
    return {r["sourcedId"]: r for r in out["users"].iter_rows(named=True)}


def test_records_equal_on_the_common_domain_become_one(tmp_path: Path) -> None:
    out, report = run_pipeline({"sis": sis_roster(), "ad": ad_roster()}, both(tmp_path))
    users = rows(out)
    # ana and bo match on email (the attribute both domains share); cy has no SIS email
    assert set(users) == {"ps-1", "ps-2", "ps-3", "ps-9", "ad-c", "ad-d"}
    assert users["ps-1"]["givenName"] == "Ana"  # the SIS, first in `sources`, wins
    assert users["ps-1"]["username"] == "1"
    assert users["ps-1"]["phone"] == "777"  # ... and the directory fills what it leaves empty
    assert users["ps-2"]["phone"] == "555"
    assert users["ad-d"]["role"] == "student"
    assert users["ps-9"]["role"] == "teacher"
    merged = report.records.filter(
        (pl.col("stage") == "cross_source_uniqueness") & (pl.col("action") == "merged")
    )
    assert sorted(merged.select("sourcedId", "source", "entityType", "detail").rows()) == [
        ("ad-a", "ad", "student", "ps-1"),
        ("ad-b", "ad", "student", "ps-2"),
    ]
    assert set(merged["reason"]) == {"same email as a record of source sis"}


def test_references_follow_the_kept_id(tmp_path: Path) -> None:
    ad = ad_roster()
    ad["enrollments"] = roster(
        source="ad",
        enrollments=[
            {
                "sourcedId": "x1",
                "classSourcedId": "k1",
                "schoolSourcedId": "s1",
                "userSourcedId": "b",
                "role": "student",
            }
        ],
    )["enrollments"]
    renamed, _ = match_across_sources(
        {"sis": sis_roster(), "ad": ad},
        load(tmp_path, [{"advanced": {"multiple_sources": True}}, ad_source(sis_prefix="")]),
    )
    assert renamed["ad"]["enrollments"]["userSourcedId"].to_list() == ["2"]
    assert ids(renamed["ad"]["users"]) == {"1", "2", "c", "d"}


def test_without_multiple_sources_nothing_matches_across(tmp_path: Path) -> None:
    cfg = both(tmp_path, sis={"advanced": {"sis_prefix": "ps-"}})
    out, report = run_pipeline({"sis": sis_roster(), "ad": ad_roster()}, cfg)
    assert len(rows(out)) == 8
    assert not report.records.filter(pl.col("stage") == "cross_source_uniqueness").height


def test_a_group_with_two_records_of_one_source_is_reported_not_merged(tmp_path: Path) -> None:
    ad = ad_roster()
    ad["users"] = roster(
        source="ad",
        users=[
            user("a", "student", "Anna", "Lopez", email="ana@x.org", username="alo"),
            user("a2", "student", "Ann", "Lopez", email="ana@x.org", username="alo2"),
        ],
    )["users"]
    cfg = load(
        tmp_path,
        [SHARING, {**ad_source(), "uniqueness_domains": {"student": ["email", "username"]}}],
    )
    out, report = run_pipeline({"sis": sis_roster(), "ad": ad}, cfg)
    assert {"ps-1", "ad-a", "ad-a2"} <= set(rows(out))
    reported = report.records.filter(pl.col("stage") == "cross_source_uniqueness")
    assert set(reported["action"]) == {"reported"}
    assert sorted(reported["sourcedId"]) == ["ad-a", "ad-a2", "ps-1"]
    assert "not merged" in reported["reason"][0]


def test_report_says_which_source_won_each_attribute(tmp_path: Path) -> None:
    cfg = both(tmp_path, master_fields={"student": {"username": ["ad", "sis"]}})
    out, report = run_pipeline({"sis": sis_roster(), "ad": ad_roster()}, cfg)
    assert rows(out)["ps-1"]["username"] == "alo"
    won = report.records.filter(pl.col("action") == "won").filter(pl.col("sourcedId") == "ps-1")
    why = {r["reason"]: (r["source"], r["detail"]) for r in won.iter_rows(named=True)}
    assert why["attribute username"] == ("ad", "preferred source; other sources differ")
    assert why["attribute givenName"] == ("sis", "preferred source; other sources differ")
    assert why["attribute familyName"] == (
        "sis",
        "preferred source; other sources agree or have no value",
    )
    assert why["attribute phone"] == ("ad", "fallback: source sis has no value")
    assert "attribute sourcedId" not in why
    assert "attribute dateLastModified" not in why
    # every record several sources have, and only those, is explained
    assert set(report.records.filter(pl.col("action") == "won")["sourcedId"]) == {"ps-1", "ps-2"}
    assert (
        report.summary()["users"]["won"]
        == report.records.filter((pl.col("action") == "won") & (pl.col("entity") == "users")).height
    )


def test_the_run_report_files_carry_the_provenance(tmp_path: Path) -> None:
    _, report = run_pipeline({"sis": sis_roster(), "ad": ad_roster()}, both(tmp_path))
    report.write_csv(tmp_path / "report")
    users = pl.read_csv(tmp_path / "report" / "users.csv")
    won = users.filter(pl.col("action") == "won")
    assert won.height
    assert set(won["source"]) == {"sis", "ad"}


def test_records_an_admin_split_are_not_merged_again(tmp_path: Path) -> None:
    split = pl.DataFrame(
        [("users", "ad-b", "ps-2", "apart")], schema=DECISIONS_SCHEMA, orient="row"
    )
    out, report = run_pipeline(
        {"sis": sis_roster(), "ad": ad_roster()}, both(tmp_path), decisions=split
    )
    assert {"ps-1", "ps-2", "ad-b"} <= set(rows(out))
    assert "ad-a" not in rows(out)  # the other match stands
    kept = report.records.filter(pl.col("reason").str.contains("kept apart by an admin"))
    assert kept.select("sourcedId", "detail").rows() == [("ad-b", "ps-2")]
