"""Law: incremental extraction ∘ merge == full extraction, record for record.

Over simulated days with every kind of change the simulator makes (new students and their
schedules, withdrawals, transfers, name and email corrections, schedule changes, a new school
year's terms, sections and co-teachers) and writes through the SIS's own API (a student renamed,
an extension row updated or deleted), each incremental extraction folded into the previous one
equals a full pull of the same moment.
"""

from __future__ import annotations

import asyncio

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from incr_helpers import (
    FULL,
    assert_same_roster,
    delete_extension,
    extract,
    rename_student,
    serve,
    set_school_email,
)

from rostersync.simulators.powerschool import District, generate_district

#: One thing that happens to the SIS between two syncs.
OPS = st.one_of(
    st.tuples(st.just("days"), st.integers(1, 3)),
    st.tuples(st.just("rename"), st.integers(0, 10_000)),
    st.tuples(st.just("email"), st.integers(0, 10_000)),
    st.tuples(st.just("delete_extension"), st.integers(0, 10_000)),
)


def _pick(district: District, table: str, key: str, index: int) -> int:
    keys = district[table][key].to_list()
    return int(keys[index % len(keys)])


def _apply(url: str, district: District, op: tuple[str, int], running: object) -> None:
    kind, n = op
    if kind == "days":
        running.set_day(district.day + n)  # type: ignore[attr-defined]
    elif kind == "rename":
        rename_student(url, _pick(district, "students", "dcid", n), f"Renamed{n}")
    elif kind == "email":
        dcid = _pick(district, "u_def_ext_students", "studentsdcid", n)
        set_school_email(url, dcid, f"fixed{n}@students.example.org")
    else:
        delete_extension(url, _pick(district, "u_def_ext_students", "studentsdcid", n))


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(steps=st.lists(st.lists(OPS, min_size=1, max_size=3), min_size=1, max_size=3))
def test_incremental_fold_equals_full_pull(steps: list[list[tuple[str, int]]]) -> None:
    district = generate_district("tiny", seed=11)
    with serve(district) as running:
        previous = asyncio.run(extract(running.url))
        assert previous.stats["incremental"]["mode"] == "full"
        for step in steps:
            for op in step:
                _apply(running.url, running.district, op, running)
            folded = asyncio.run(extract(running.url, baseline=previous.baseline))
            assert folded.stats["incremental"]["mode"] == "incremental"
            full = asyncio.run(extract(running.url, options=FULL))
            assert_same_roster(folded.roster, full.roster)
            previous = folded


def test_the_law_holds_across_a_new_school_year(before_rollover: District) -> None:
    with serve(before_rollover) as running:
        previous = asyncio.run(extract(running.url))
        sections = previous.roster["classes"].height
        for _ in range(3):  # the day before, the first day of the new year, the day after
            running.set_day(running.district.day + 1)
            folded = asyncio.run(extract(running.url, baseline=previous.baseline))
            assert folded.stats["incremental"]["mode"] == "incremental"
            assert_same_roster(
                folded.roster, asyncio.run(extract(running.url, options=FULL)).roster
            )
            previous = folded
        assert previous.roster["classes"].height > sections  # next year's sections came in


def test_the_law_holds_for_a_scope_of_schools() -> None:
    district = generate_district("tiny", seed=12)
    with serve(district) as running:
        school = str(district["schools"]["dcid"][0])
        previous = asyncio.run(extract(running.url, schools=[school]))
        running.set_day(2)
        folded = asyncio.run(extract(running.url, baseline=previous.baseline, schools=[school]))
        assert folded.stats["incremental"]["mode"] == "incremental"
        full = asyncio.run(extract(running.url, options=FULL, schools=[school]))
        assert_same_roster(folded.roster, full.roster)


def test_the_law_holds_when_the_sis_deletes_an_enrollment() -> None:
    # A CC row entered in error is deleted, not dropped: change tracking lists its key, and
    # the enrollments query no longer returns it. (Core tables are not writable over the
    # API, so the simulated SIS deletes it itself and logs the change as PowerSchool does.)
    district = generate_district("tiny", seed=33, day=1)
    with serve(district) as running:
        previous = asyncio.run(extract(running.url))
        sim = running.simulator
        with sim.lock:
            d = sim.district
            dcid = int(d["cc"]["dcid"][0])
            d.tables["cc"] = d["cc"].filter(pl.col("dcid") != dcid)
            entry = {"day": [d.day], "table": ["cc"], "action": ["delete"], "key": [dcid]}
            d.changes = pl.concat(
                [d.changes, pl.DataFrame({**entry, "what": ["entered in error"]}, d.changes.schema)]
            )
            d.revision += 1
        folded = asyncio.run(extract(running.url, baseline=previous.baseline))
        assert folded.stats["incremental"]["changed"] == {"cc": 1}
        full = asyncio.run(extract(running.url, options=FULL))
        assert full.roster["enrollments"].height < previous.roster["enrollments"].height
        assert_same_roster(folded.roster, full.roster)


def test_an_incremental_pull_asks_far_less_than_a_full_one() -> None:
    district = generate_district("tiny", seed=13)
    with serve(district) as running:
        previous = asyncio.run(extract(running.url))
        running.set_day(1)
        folded = asyncio.run(extract(running.url, baseline=previous.baseline))
        full = asyncio.run(extract(running.url, options=FULL))
        assert folded.stats["requests"] * 3 < full.stats["requests"]
