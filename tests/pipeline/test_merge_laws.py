"""Laws of the multi-source merge, checked by Hypothesis over generated pairs of sources.

- deterministic, and independent of the order the sources' rosters are given in;
- swapping the sources in the configuration changes only what the master fields and the kept
  ID say (the set of people is the same);
- a source that delivers nothing (it failed) never removes what another source still provides.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipeline_factories import BASE_SOURCE, roster, user

from rostersync.config import DistrictConfig, validate_config
from rostersync.model import Roster
from rostersync.pipeline import run_pipeline

GIVEN = ["Ana", "ana ", "Bo", "Cy"]
EMAIL = [None, "a@x.org", "A@X.ORG", "b@x.org", "c@x.org", "d@x.org"]
PHONE = [None, "", "1", "2"]
LAWS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def people(draw: st.DrawFn, source: str) -> Roster:
    n = draw(st.integers(0, 6))
    users = [
        user(
            f"{source[0]}{i}",
            draw(st.sampled_from(["student", "student", "teacher"])),
            draw(st.sampled_from(GIVEN)),
            "Lopez",
            email=draw(st.sampled_from(EMAIL)),
            phone=draw(st.sampled_from(PHONE)),
        )
        for i in range(n)
    ]
    enrollments = [
        {
            "sourcedId": f"{source[0]}e{i}",
            "classSourcedId": "k",
            "schoolSourcedId": "s",
            "userSourcedId": u["sourcedId"],
            "role": u["role"],
        }
        for i, u in enumerate(users)
    ]
    classes = [
        {
            "sourcedId": "k",
            "title": "K",
            "courseSourcedId": "c",
            "classType": "scheduled",
            "schoolSourcedId": "s",
            "termSourcedIds": ["t"],
        }
    ]
    return roster(source=source, users=users, enrollments=enrollments, classes=classes)  # type: ignore[arg-type]


def config(first: str = "sis", *, domain: list[str] | None = None) -> DistrictConfig:
    sis = {**BASE_SOURCE, "advanced": {"multiple_sources": True, "sis_prefix": "ps-"}}
    ad = {
        **BASE_SOURCE,
        "name": "ad",
        "advanced": {"multiple_sources": True, "sis_prefix": "ad-"},
        "uniqueness_domains": {"student": domain or ["email"], "teacher": domain or ["email"]},
    }
    sources = [sis, ad] if first == "sis" else [ad, sis]
    return validate_config(
        {"district": "D", "sources": sources, "master_fields": {"users": {"phone": ["ad"]}}},
        "law",
    )


def canonical(tables: Roster) -> dict[str, list[tuple[Any, ...]]]:
    return {name: sorted(t.rows(), key=repr) for name, t in tables.items()}


def shuffled(tables: Roster, seed: int) -> Roster:
    return {name: t.sample(fraction=1.0, shuffle=True, seed=seed) for name, t in tables.items()}


@LAWS
@given(people("sis"), people("ad"), st.integers(0, 1000))
def test_merge_is_deterministic_and_ignores_argument_order(
    sis: Roster, ad: Roster, seed: int
) -> None:
    cfg = config()
    first, report1 = run_pipeline({"sis": sis, "ad": ad}, cfg)
    again, report2 = run_pipeline({"ad": shuffled(ad, seed), "sis": shuffled(sis, seed)}, cfg)
    assert canonical(first) == canonical(again)
    assert sorted(report1.records.rows(), key=repr) == sorted(report2.records.rows(), key=repr)


@LAWS
@given(people("sis"), people("ad"))
def test_source_order_in_the_configuration_decides_only_what_it_should(
    sis: Roster, ad: Roster
) -> None:
    a, _ = run_pipeline({"sis": sis, "ad": ad}, config("sis"))
    b, _ = run_pipeline({"sis": sis, "ad": ad}, config("ad"))
    # the same number of people, and the master field's winner does not move
    assert a["users"].height == b["users"].height
    phones = lambda t: sorted(t["users"]["phone"].to_list(), key=repr)  # noqa: E731
    assert phones(a) == phones(b)


@LAWS
@given(people("sis"), people("ad"))
def test_a_failed_source_never_removes_what_another_provides(sis: Roster, ad: Roster) -> None:
    cfg = config()
    for name, alone in (("ad", ad), ("sis", sis)):
        only, _ = run_pipeline({name: alone}, cfg)
        together, report = run_pipeline({"sis": sis, "ad": ad}, cfg)
        renamed = dict(
            report.records.filter(
                (pl.col("stage") == "cross_source_uniqueness") & (pl.col("action") == "merged")
            )
            .select("sourcedId", "detail")
            .rows()
        )
        kept = set(together["users"]["sourcedId"])
        for sid in only["users"]["sourcedId"]:
            assert renamed.get(sid, sid) in kept, sid
        for enrollment in only["enrollments"].iter_rows(named=True):
            user_id = renamed.get(enrollment["userSourcedId"], enrollment["userSourcedId"])
            assert user_id in set(together["enrollments"]["userSourcedId"])
