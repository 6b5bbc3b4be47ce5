"""The synthetic district: determinism, the messy cases the issue lists, days and ground truth."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from rostersync.errors import ConfigurationError
from rostersync.simulators.powerschool import (
    District,
    generate_district,
    load_district,
    write_district,
)


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    a = write_district(generate_district("tiny", seed=5, day=2), tmp_path / "a")
    b = write_district(generate_district("tiny", seed=5, day=2), tmp_path / "b")
    c = write_district(generate_district("tiny", seed=6, day=2), tmp_path / "c")
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_write_and_load_round_trip(tmp_path: Path) -> None:
    district = generate_district("tiny", seed=2, day=1)
    loaded = load_district(write_district(district, tmp_path / "d"))
    assert loaded.counts() == district.counts()
    assert loaded.day == 1
    assert loaded["students"].equals(district["students"])
    assert loaded.changes.equals(district.changes)


def test_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="unknown district size"):
        generate_district("huge")
    with pytest.raises(ConfigurationError, match=r"no manifest\.json"):
        load_district(tmp_path)
    with pytest.raises(ConfigurationError, match="at least 1"):
        generate_district("tiny", students=0)


def test_sizes_and_student_override() -> None:
    small = generate_district("small", seed=1)
    counts = small.counts()
    assert counts["v1_schools"] == 5
    assert 1_950 <= counts["students"] <= 2_100
    assert counts["cc"] > 4 * counts["active_students"]
    custom = generate_district("tiny", students=300)
    assert 300 <= custom.student_count <= 310


def test_messy_names_emails_and_statuses(tiny_small: District) -> None:
    students = tiny_small["students"]
    names = students["last_name"]
    assert names.str.contains("'").any()
    assert names.str.contains("-").any()
    assert names.str.contains(r" (Jr\.|Sr\.|II|III|IV)$").any()
    assert pl.concat([names, students["first_name"]]).str.contains(r"[^\x00-\x7F]").any()
    emails = tiny_small["u_def_ext_students"]["school_email"]
    assert emails.null_count() > 0
    assert (~emails.drop_nulls().str.contains(r"^[^@ ]+@[^@ ]+\.[a-z]+$")).any()
    statuses = set(students["enroll_status"].to_list())
    assert {0, -1, 2, 3} <= statuses
    graduated = students.filter(pl.col("enroll_status") == 3)
    assert set(graduated["schoolid"].to_list()) == {999999}


def test_duplicates_siblings_contacts_and_co_teachers(tiny_small: District) -> None:
    d = tiny_small
    dup = d.duplicates.row(0, named=True)
    a = d["students"].filter(pl.col("dcid") == dup["dcid"]).row(0, named=True)
    b = d["students"].filter(pl.col("dcid") == dup["duplicate_of"]).row(0, named=True)
    assert (a["first_name"], a["last_name"], a["dob"]) == (
        b["first_name"],
        b["last_name"],
        b["dob"],
    )
    assert a["student_number"] != b["student_number"]
    shared = d["studentcontactassoc"].group_by("personid").len().filter(pl.col("len") > 1)
    assert shared.height > 0  # siblings share contacts
    assert d["students"]["mother"].str.contains(", ").any()  # legacy "Last, First"
    assert (d["sectionteacher"]["roleid"] == 2).any()  # co-teachers with roles
    enrolled = d["cc"].filter(pl.col("sectionid") > 0)["sectionid"].unique()
    assert d["sections"].filter(~pl.col("id").is_in(enrolled.implode())).height > 0
    active = d["students"].filter(pl.col("enroll_status") == 0)
    assert active.filter(~pl.col("id").is_in(d["cc"]["studentid"].implode())).height > 0
    portions = set(d["terms"]["portion"].to_list())
    assert portions == {1, 2, 4}


def test_days_change_the_district_and_log_it() -> None:
    day0 = generate_district("tiny", seed=4)
    day3 = generate_district("tiny", seed=4, day=3)
    assert day3.student_count == day0.student_count + 3
    log = day3.changes_since(1)
    assert set(log["day"].to_list()) == {2, 3}
    assert {"new student", "withdrawn", "first name corrected"} <= set(log["what"].to_list())
    inserted = log.filter((pl.col("table") == "students") & (pl.col("action") == "insert"))
    assert inserted["key"].is_in(day3["students"]["dcid"].implode()).all()
    walked = generate_district("tiny", seed=4)
    walked.advance_to(3)
    assert walked["students"].equals(day3["students"])
    with pytest.raises(ConfigurationError):
        walked.advance_to(1)


def test_new_school_year_brings_new_terms_and_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    from rostersync.simulators.powerschool import _days

    assert _days.ROLLOVER_DAY == 359  # 2026-08-19, the next year's first day
    monkeypatch.setattr(_days, "ROLLOVER_DAY", 2)  # the same event, reached quickly
    district = generate_district("tiny", seed=3, day=2)
    assert set(district["terms"]["yearid"].to_list()) == {35, 36}
    new_sections = district["sections"].filter(pl.col("termid") // 100 == 36)
    assert new_sections.height > 0
    logged = district.changes_since(1).filter(pl.col("what") == "new school year")
    assert set(logged["table"].to_list()) == {"terms", "sections", "sectionteacher"}
