"""Metadata records: districts, sources, configuration versions, runs, change sets, audit log."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import polars as pl
import pytest

from rostersync.errors import ConfigurationError, FatalError, VersionNotFound
from rostersync.store import District, Store, VersionDiff


def test_districts_create_list_get(store: Store) -> None:
    a = store.create_district("  Springfield Public Schools ")
    b = store.create_district("Shelbyville ISD #4")
    assert a.name == "Springfield Public Schools"
    assert a.slug == "springfield-public-schools"
    assert b.slug == "shelbyville-isd-4"
    assert a.created_at.tzinfo is not None
    assert [d.name for d in store.list_districts()] == [a.name, b.name]
    assert store.get_district("shelbyville-isd-4") == b
    assert store.get_district(a.name) == a
    assert store.get_district(str(a.id)) == a
    assert store.get_district(b.id) == b


def test_district_errors_are_configuration_errors(store: Store) -> None:
    store.create_district("Springfield")
    with pytest.raises(ConfigurationError, match="already exists"):
        store.create_district("springfield")  # same slug
    with pytest.raises(ConfigurationError, match="no letters or digits"):
        store.create_district("!!!")
    with pytest.raises(ConfigurationError) as info:
        store.get_district("nowhere")
    assert info.value.hint is not None
    assert "rostersync districts list" in info.value.hint


def test_sources(store: Store, district: District) -> None:
    ps = store.add_source(district.id, "sis", "powerschool")
    ad = store.add_source(district.id, "directory", "ldap")
    assert [s.name for s in store.list_sources(district.id)] == ["sis", "directory"]
    assert (ps.app, ad.app) == ("powerschool", "ldap")
    with pytest.raises(ConfigurationError, match="already exists"):
        store.add_source(district.id, "sis", "powerschool")


def test_config_versions(store: Store, district: District) -> None:
    with pytest.raises(VersionNotFound, match="no saved configuration"):
        store.get_config_version(district.id)
    v1 = store.save_config_version(district.id, {"sync_mode": "import", "sis_prefix": "ps-"})
    v2 = store.save_config_version(
        district.id, {"sync_mode": "two_way"}, created_by="admin@example.org", comment="2-way"
    )
    assert (v1, v2) == (1, 2)
    assert store.get_config_version(district.id) == (2, {"sync_mode": "two_way"})
    assert store.get_config_version(district.id, 1) == (
        1,
        {"sync_mode": "import", "sis_prefix": "ps-"},
    )
    with pytest.raises(VersionNotFound):
        store.get_config_version(district.id, 3)


def test_config_versions_saved_at_once_by_two_writers_on_sqlite(sqlite_store: Store) -> None:
    """Two threads saving a district's configuration at the same time on one SQLite file
    (two syncs starting together): every save waits its turn and gets its own number."""
    district = sqlite_store.create_district("Springfield")
    other = sqlite_store.create_district("Shelbyville")  # writes of another district between
    barrier = threading.Barrier(2)
    saved: list[int] = []
    errors: list[BaseException] = []

    def save(district_id: int, *, keep: bool) -> None:
        barrier.wait()
        try:
            for i in range(25):
                version = sqlite_store.save_config_version(district_id, {"n": i})
                if keep:
                    saved.append(version)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [
        threading.Thread(target=save, args=(district.id,), kwargs={"keep": True}),
        threading.Thread(target=save, args=(district.id,), kwargs={"keep": True}),
    ]
    for thread in threads:
        thread.start()
    save_other = sqlite_store.save_config_version(other.id, {"n": -1})
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(saved) == list(range(1, 51))
    assert save_other == 1
    with pytest.raises(ConfigurationError, match="does not exist"):
        sqlite_store.save_config_version(999, {"n": 0})


def test_runs_lifecycle(store: Store, district: District) -> None:
    run_id = store.create_run(district.id, trigger="manual", source="sis")
    run = store.get_run(run_id)
    assert (run.status, run.trigger, run.source) == ("pending", "manual", "sis")
    assert run.started_at is None
    assert run.phases == {}
    assert run.report == {}
    started = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
    store.update_run(
        run_id,
        status="succeeded",
        started_at=started,
        phases={"extract": {"seconds": 1.5}},
        counts={"users": 40},
        report={"skipped": []},
        change_summary={"users": {"added": 40}},
        roster_version=1,
    )
    run = store.get_run(run_id)
    assert run.status == "succeeded"
    assert run.started_at == started
    assert run.phases == {"extract": {"seconds": 1.5}}
    assert run.counts == {"users": 40}
    assert run.change_summary == {"users": {"added": 40}}
    assert run.roster_version == 1
    second = store.create_run(district.id, trigger="schedule")
    assert [r.id for r in store.list_runs(district.id)] == [second, run_id]
    assert [r.id for r in store.list_runs(district.id, limit=1)] == [second]


def test_run_errors(store: Store, district: District) -> None:
    with pytest.raises(VersionNotFound, match="Run 999"):
        store.get_run(999)
    with pytest.raises(VersionNotFound, match="Run 999"):
        store.update_run(999, status="failed")
    run_id = store.create_run(district.id, trigger="manual")
    with pytest.raises(FatalError, match="colour"):
        store.update_run(run_id, colour="blue")


def test_change_sets(store: Store, district: District) -> None:
    run_id = store.create_run(district.id, trigger="manual")
    diffs = {
        "users": VersionDiff(
            added=pl.Series("sourcedId", ["u1", "u2"]),
            deleted=pl.Series("sourcedId", ["u9"]),
        ),
        "orgs": VersionDiff(),
    }
    store.save_change_set(run_id, diffs)
    got = store.get_change_set(run_id)
    assert set(got) == {"users"}
    assert got["users"].added.to_list() == ["u1", "u2"]
    assert got["users"].updated.to_list() == []
    assert got["users"].deleted.to_list() == ["u9"]
    store.save_change_set(run_id, {"orgs": VersionDiff(updated=pl.Series(["s1"]))})
    assert list(store.get_change_set(run_id)) == ["orgs"]


def test_audit_log(store: Store, district: District) -> None:
    store.audit("admin@example.org", "config.save", district.id, version=2)
    store.audit("system", "install")
    entries = store.list_audit()
    assert [(e.actor, e.action) for e in entries] == [
        ("system", "install"),
        ("admin@example.org", "config.save"),
    ]
    assert entries[1].detail == {"version": 2}
    assert entries[1].at.tzinfo is not None
    assert [e.action for e in store.list_audit(district.id)] == ["config.save"]
