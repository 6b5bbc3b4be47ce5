"""`rostersync sync run --config`: simulator → extract → pipeline → published version."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from e2e_helpers import published, store, sync, sync_json, write_config

from rostersync.errors import SourceAuthError, SourceUnreachable
from rostersync.simulators.powerschool import District, RunningSimulator


def expected_counts(d: District, *, co_teachers: bool) -> dict[str, int]:
    """What the simulator serves, counted the way the summary counts it."""
    active = d["students"].filter(pl.col("enroll_status") == 0)
    cc = (
        d["cc"]
        .filter(pl.col("sectionid") > 0)
        .join(active.select(pl.col("id").alias("studentid")), on="studentid", how="semi")
    )
    teachers = d["sections"].height
    if co_teachers:
        teachers = d["sectionteacher"].select("sectionid", "teacherid").unique().height
    real = d["schools"].filter(pl.col("school_number") != 999_999)["school_number"]
    rows = d["schoolstaff"].join(d["users"].rename({"dcid": "users_dcid"}), on="users_dcid")
    listed = rows.filter((pl.col("status") == 1) & pl.col("schoolid").is_in(real.implode()))
    staff = (
        rows.filter(pl.col("users_dcid").is_in(listed["users_dcid"].implode()))
        .group_by("users_dcid")
        .agg(
            (pl.col("staffstatus").is_in([1, 4]) & (pl.col("status") == 1)).any().alias("t"),
            (
                ((pl.col("staffstatus") == 2) & (pl.col("status") == 1))
                | pl.col("loginid").is_not_null()
            )
            .any()
            .alias("a"),
        )
    )
    names = ["mother", "father", "emerg_contact_1", "emerg_contact_2"]
    legacy = (
        active.select("dcid", *names)
        .unpivot(index="dcid", on=names)
        .filter(pl.col("value").str.strip_chars().fill_null("") != "")
        .select("dcid", pl.col("value").str.strip_chars().str.to_lowercase())
        .unique()
    )
    return {
        "teachers": staff.filter("t").height,
        "admins": staff.filter(~pl.col("t") & pl.col("a")).height,
        "contacts": legacy.height,
        "schools": d.counts()["v1_schools"],
        "sessions": d["terms"].height,
        "courses": d["sections"].select("course_number").unique().height,
        "classes": d["sections"].height,
        "students": active.height,
        "enrollments": cc.height + teachers,
    }


@pytest.mark.parametrize("size", ["tiny", "small"])
def test_sync_publishes_what_the_simulator_serves(
    size: str,
    e2e_tiny: tuple[District, RunningSimulator],
    e2e_small: tuple[District, RunningSimulator],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    district, sim = e2e_tiny if size == "tiny" else e2e_small
    config = write_config(tmp_path / "district.yaml", sim.url, monkeypatch)
    outcome = sync_json(config)
    assert outcome["status"] == "succeeded"
    assert outcome["version"] == 1
    want = expected_counts(district, co_teachers=True)
    for label, count in want.items():
        assert outcome["summary"][label] == count, label

    version, roster = published()
    assert version == 1
    users = roster["users"]
    assert users.filter(pl.col("role") == "student").height == want["students"]
    # A sample of students equals their source rows, custom field mapped onto email.
    active = district["students"].filter(pl.col("enroll_status") == 0).sort("dcid")
    ext = district["u_def_ext_students"]
    for row in active.gather_every(max(1, active.height // 7)).iter_rows(named=True):
        user = users.filter(pl.col("sourcedId") == f"student-{row['dcid']}").row(0, named=True)
        assert (user["givenName"], user["familyName"]) == (row["first_name"], row["last_name"])
        assert user["identifier"] == str(row["student_number"])
        school_email = ext.filter(pl.col("studentsdcid") == row["dcid"])["school_email"][0]
        assert json.loads(user["metadata"])["U_DEF_EXT_STUDENTS.school_email"] == school_email
    # Legacy contacts (contact module off) come out with parsed names.
    contacts = users.filter(pl.col("role").is_in(["parent", "guardian", "relative"]))
    assert contacts.height > 0
    assert contacts["familyName"].null_count() < contacts.height
    # Co-teachers are on by default.
    teachers = roster["enrollments"].filter(pl.col("role") == "teacher")
    assert teachers.filter(~pl.col("primary")).height > 0

    run = store().list_runs(store().get_district("Springfield Public Schools").id)[0]
    assert run.status == "succeeded"
    assert run.roster_version == 1
    assert {"extract", "pipeline", "publish"} <= set(run.phases)


def test_co_teachers_off_and_second_run_changes_nothing(
    e2e_tiny: tuple[District, RunningSimulator],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    district, sim = e2e_tiny
    config = write_config(tmp_path / "d.yaml", sim.url, monkeypatch, sync_co_teachers=False)
    first = sync_json(config)
    assert (
        first["summary"]["enrollments"]
        == expected_counts(district, co_teachers=False)["enrollments"]
    )
    _, roster = published()
    teachers = roster["enrollments"].filter(pl.col("role") == "teacher")
    assert teachers.filter(~pl.col("primary")).height == 0
    second = sync_json(config)
    # Nothing changed: no new version; the run says so and points at the version that stays.
    assert second["status"] == "succeeded"
    assert second["unchanged"] is True
    assert second["version"] == 1
    assert second["changes"]["total"] == 0
    version, _ = published()
    assert version == 1
    s = store()
    run = s.get_run(second["run_id"])
    assert (run.status, run.roster_version) == ("succeeded", 1)
    assert run.change_summary["unchanged"] is True
    assert run.counts["unchanged"] is True
    quiet = sync(config, "--quiet")
    assert quiet.exit_code == 0, quiet.output
    assert "no changes, roster version 1 stays current" in quiet.stdout


def test_unreachable_server_fails_and_publishes_nothing(
    e2e_tiny: tuple[District, RunningSimulator],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, sim = e2e_tiny
    good = write_config(tmp_path / "good.yaml", sim.url, monkeypatch)
    sync_json(good)
    bad = write_config(tmp_path / "bad.yaml", "http://127.0.0.1:9", monkeypatch)
    result = sync(bad, "--quiet")
    assert isinstance(result.exception, SourceUnreachable)
    assert "refused" in str(result.exception)
    assert "\n" not in str(result.exception)
    version, _ = published()
    assert version == 1  # still the last good version
    s = store()
    run = s.list_runs(s.get_district("Springfield Public Schools").id)[0]
    assert run.status == "failed"
    assert run.error is not None
    assert "refused" in run.error


def test_revoked_secret_fails_with_a_clear_message(
    e2e_tiny: tuple[District, RunningSimulator],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, sim = e2e_tiny
    config = write_config(tmp_path / "d.yaml", sim.url, monkeypatch, secret="revoked")
    result = sync(config, "--quiet")
    assert isinstance(result.exception, SourceAuthError)
    assert "client ID or secret" in str(result.exception)
    assert "revoked" not in str(result.exception)
    version, _ = published()
    assert version is None
