"""Laws of the pipeline, checked by Hypothesis over generated rosters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipeline_factories import BASE_SOURCE, roster, user

from rostersync.config import DistrictConfig, validate_config
from rostersync.model import Roster
from rostersync.pipeline import filter_rules, master_field_merge, run_pipeline, uniqueness_domains

GIVEN = ["Ana", " ana", "Ána", "Bo", "BO "]
FAMILY = ["López", "Lopez", "Chen"]
EMAIL = [None, "a@x.org", "A@X.ORG ", "b@x.org", ""]
ROLES = ["student", "student", "teacher", "guardian"]
LAWS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def rosters(draw: st.DrawFn, source: str = "sis") -> Roster:
    n = draw(st.integers(1, 12))
    users = []
    for i in range(n):
        users.append(
            user(
                f"u{i}",
                draw(st.sampled_from(ROLES)),
                draw(st.sampled_from(GIVEN)),
                draw(st.sampled_from(FAMILY)),
                email=draw(st.sampled_from(EMAIL)),
                phone=draw(st.sampled_from([None, "1", "2"])),
                grades=draw(st.sampled_from([None, ["09"], ["10"], []])),
                agentSourcedIds=[f"u{j}" for j in draw(st.sets(st.integers(0, n - 1), max_size=2))],
            )
        )
    classes = [
        {
            "sourcedId": f"k{i}",
            "title": f"K{i}",
            "courseSourcedId": "c",
            "classType": "scheduled",
            "schoolSourcedId": "s",
            "termSourcedIds": ["t"],
        }
        for i in range(3)
    ]
    pairs = draw(st.sets(st.tuples(st.integers(0, 3), st.integers(0, n)), max_size=10))
    enrollments = [
        {
            "sourcedId": f"e{k}{u}",
            "classSourcedId": f"k{k}",
            "schoolSourcedId": "s",
            "userSourcedId": f"u{u}",
            "role": "student",
        }
        for k, u in sorted(pairs)
    ]
    links = draw(st.sets(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=6))
    contacts = [
        {"sourcedId": f"l{a}-{b}", "studentSourcedId": f"u{a}", "contactSourcedId": f"u{b}"}
        for a, b in sorted(links)
    ]
    return roster(
        source=source,
        users=users,
        classes=classes,
        enrollments=enrollments,  # type: ignore[arg-type]
        userContacts=contacts,
    )


def config(*sources: dict[str, Any], **top: Any) -> DistrictConfig:
    srcs = [{**BASE_SOURCE, **s} for s in (sources or ({},))]
    return validate_config({"district": "D", "sources": srcs, **top}, "law")


def canonical(tables: Roster) -> dict[str, list[tuple[Any, ...]]]:
    return {name: sorted(t.sort("sourcedId").rows(), key=repr) for name, t in tables.items()}


def shuffled(tables: Roster, seed: int) -> Roster:
    return {name: t.sample(fraction=1.0, shuffle=True, seed=seed) for name, t in tables.items()}


@LAWS
@given(rosters())
def test_dedup_is_idempotent(tables: Roster) -> None:
    src = config().sources[0]
    once, _ = uniqueness_domains(tables, src)
    twice, report = uniqueness_domains(once, src)
    assert report.records.height == 0
    assert canonical(twice) == canonical(once)


@LAWS
@given(rosters(), st.integers(0, 1000))
def test_pipeline_is_deterministic_row_order_aside(tables: Roster, seed: int) -> None:
    cfg = config(
        {
            "advanced": {"sis_prefix": "p-"},
            "uniqueness_domains": {"student": ["givenName", "familyName"]},
        }
    )
    first, report1 = run_pipeline({"sis": tables}, cfg)
    again, report2 = run_pipeline({"sis": shuffled(tables, seed)}, cfg)
    assert canonical(first) == canonical(again)
    assert sorted(report1.records.rows(), key=repr) == sorted(report2.records.rows(), key=repr)


@LAWS
@given(rosters())
def test_no_stage_invents_a_record(tables: Roster) -> None:
    cfg = config({"filter_rules": {"contact": [{"template": "contacts_of_synced_students"}]}})
    out, _ = run_pipeline({"sis": tables}, cfg)
    for name, table in out.items():
        assert set(table["sourcedId"]) <= set(tables[name]["sourcedId"]), name


@LAWS
@given(rosters())
def test_include_all_filters_change_nothing(tables: Roster) -> None:
    always = {"include": {"attribute": "sourcedId", "op": "is_not_empty"}}
    types = ("student", "contact", "teacher", "admin", "course", "class", "calendar")
    src = config({"filter_rules": {t: [always] for t in types}}).sources[0]
    out, report = filter_rules(tables, src)
    assert report.records.height == 0
    assert all(out[n].equals(tables[n]) for n in tables)


@LAWS
@given(rosters("sis"), rosters("ad"))
def test_merge_depends_on_configuration_not_on_argument_order(sis: Roster, ad: Roster) -> None:
    ad_source = {"name": "ad", "app": "ldap"}
    cfg = config({}, ad_source, master_fields={"users": {"email": ["ad", "sis"]}})
    a, _ = master_field_merge({"sis": sis, "ad": ad}, cfg)
    b, _ = master_field_merge({"ad": ad, "sis": sis}, cfg)
    assert canonical(a) == canonical(b)
    # the master-field priority is what decides email, whichever source is listed first
    swapped = config(ad_source, {}, master_fields={"users": {"email": ["ad", "sis"]}})
    c, _ = master_field_merge({"sis": sis, "ad": ad}, swapped)
    emails = lambda t: dict(t["users"].select("sourcedId", "email").rows())  # noqa: E731
    assert emails(a) == emails(c)


def test_laws_can_fail(tmp_path: Path) -> None:
    """A sanity check of the comparison helper itself: different tables compare unequal."""
    one = roster(users=[user("u1", "student", "A", "B")])
    two = roster(users=[user("u1", "student", "A", "C")])
    assert canonical(one) != canonical(two)
    assert isinstance(pl.DataFrame(), pl.DataFrame)
