"""A district fed by two sources (two PowerSchool simulators over real HTTP): the same students
become one record each, master fields decide each attribute with a fallback, the run report
says which source won, and a source that fails deletes nothing another still provides."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest

from rostersync import manage
from rostersync.config import DistrictConfig, validate_config
from rostersync.errors import RostersyncError
from rostersync.model import ENTITY_TYPES
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import (
    District,
    Faults,
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from rostersync.store import Store
from rostersync.sync import sync_config
from support.configs import powerschool_config

PHONE = "555-0100"
BLANKED = 10  # students whose school email the second source has lost


def second_copy() -> District:
    """The same district as the directory sees it: every phone, fewer emails."""
    district = generate_district("tiny", seed=2)
    students = district.tables["students"]
    district.tables["students"] = students.with_columns(home_phone=pl.lit(PHONE))
    ext = district.tables["u_def_ext_students"].sort("studentsdcid")
    blank = ext["studentsdcid"].head(BLANKED)
    district.tables["u_def_ext_students"] = ext.with_columns(
        school_email=pl.when(pl.col("studentsdcid").is_in(blank.implode()))
        .then(None)
        .otherwise("school_email")
    )
    return district


@pytest.fixture
def sims() -> Iterator[tuple[RunningSimulator, RunningSimulator]]:
    first = generate_district("tiny", seed=2)
    first.tables["students"] = first.tables["students"].with_columns(
        home_phone=pl.lit(None, pl.Utf8)
    )
    with (
        run_simulator(first, SimulatorConfig()) as sis,
        run_simulator(second_copy(), SimulatorConfig()) as other,
    ):
        yield sis, other


def source(url: str, name: str, prefix: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    body = powerschool_config(url, monkeypatch)["sources"][0]
    body["name"] = name
    body["advanced"] = {
        **body["advanced"],
        "sis_prefix": prefix,
        "multiple_sources": True,
        "compare_by_uniqueness": True,
    }
    # one person in both: same name and birth date (the directory has lost some emails)
    body["uniqueness_domains"] = {"student": ["givenName", "familyName", "birthDate"]}
    return body  # type: ignore[no-any-return]


def config(
    sims: tuple[RunningSimulator, RunningSimulator], monkeypatch: pytest.MonkeyPatch
) -> DistrictConfig:
    body = {
        "district": "Two Sources USD",
        "sources": [
            source(sims[0].url, "sis", "ps-", monkeypatch),
            source(sims[1].url, "dir", "dir-", monkeypatch),
        ],
        "master_fields": {"student": {"email": ["dir", "sis"], "phone": ["dir"]}},
    }
    return validate_config(body, "two sources")


def students(store: Store, district_id: int) -> pl.DataFrame:
    users = store.read_version(district_id, entities=["users"])["users"]
    return users.filter(ENTITY_TYPES["student"].mask())


def test_two_sources_merge_attribute_by_attribute(
    sims: tuple[RunningSimulator, RunningSimulator], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(sims, monkeypatch)
    outcome = sync_config(store, cfg, load_settings())
    assert outcome.status == "succeeded"
    published = students(store, outcome.district_id)
    again = sync_config(store, cfg, load_settings())
    assert again.unchanged  # the same sources again: the merge is stable
    # every student once, under the first source's ID
    assert published["sourcedId"].str.starts_with("ps-student-").all()
    assert published.height == outcome.summary["students"]
    assert published["phone"].unique().to_list() == [PHONE]  # the directory wins the phone
    report = pl.read_csv(f"{outcome.report['files']}/users.csv", infer_schema_length=0)
    won = report.filter((pl.col("action") == "won") & (pl.col("entityType") == "student"))
    phone = won.filter(pl.col("reason") == "attribute phone")
    assert set(phone["source"]) == {"dir"}
    assert phone.height == published.height
    email = won.filter(pl.col("reason") == "attribute email")
    fallbacks = email.filter(pl.col("detail") == "fallback: source dir has no value")
    assert set(fallbacks["source"]) == {"sis"}
    assert 0 < fallbacks.height <= BLANKED
    # what the report says is what was published
    by_id = dict(published.select("sourcedId", "email").rows())
    assert all(by_id[sid] for sid in fallbacks["sourcedId"])
    merged = report.filter(
        (pl.col("stage") == "cross_source_uniqueness") & (pl.col("action") == "merged")
    )
    kinds = merged.group_by("entityType").len()
    assert dict(kinds.rows()) == {"student": published.height, "teacher": 3, "admin": 1}
    assert merged["sourcedId"].str.starts_with("dir-").all()


def test_a_failing_source_deletes_nothing_the_other_provides(
    sims: tuple[RunningSimulator, RunningSimulator], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(sims, monkeypatch)
    first = sync_config(store, cfg, load_settings())
    before = {n: t.height for n, t in store.read_version(first.district_id).items()}
    sims[1].config.faults = Faults(outage=True)  # the directory answers empty lists
    with pytest.raises(RostersyncError):
        sync_config(store, cfg, load_settings())
    assert store.current_version(first.district_id) == first.version
    after = {n: t.height for n, t in store.read_version(first.district_id).items()}
    assert after == before
    run = store.list_runs(first.district_id)[0]
    assert run.status == "failed"
    assert "dir" in (run.error or "")


def test_a_cross_source_merge_can_be_split_for_good(
    sims: tuple[RunningSimulator, RunningSimulator], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(sims, monkeypatch)
    first = sync_config(store, cfg, load_settings())
    keep = students(store, first.district_id)["sourcedId"].sort()[0]
    gone = keep.replace("ps-", "dir-", 1)
    apart = manage.unlink_records(store, "cli:jane", first.district_id, "student", gone, keep)
    assert (apart.kind, apart.from_id, apart.to_id) == ("apart", gone, keep)
    second = sync_config(store, cfg, load_settings())
    assert second.changes["entities"]["users"]["added"] == 1
    for _ in range(2):  # and it stays split
        assert {keep, gone} <= set(students(store, first.district_id)["sourcedId"])
        sync_config(store, cfg, load_settings())
    assert store.list_audit(first.district_id)[0].action == "matches.unlink"
