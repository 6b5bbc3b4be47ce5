"""Districts through the service layer on SQLite and PostgreSQL: deleting one district purges
everything it owns, in one transaction under its run lock, and leaves every other district's
rows (and the audit log) exactly as they were."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from mg_helpers import config_body, counts, sync, tables
from typer.testing import CliRunner

from rostersync import manage
from rostersync.cli import app
from rostersync.errors import ConfigurationError, RunInProgress
from rostersync.export.oneroster.clients import ApiClients
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.schedule.locks import RunLocks
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import RunningSimulator
from rostersync.store import Store, open_store
from rostersync.store.schema import audit_log


@pytest.fixture
def two(
    store: Store, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> tuple[Store, int, int]:
    """Two districts synced from the simulator (two versions each), with API clients."""
    settings = load_settings()
    a_body = config_body(sim.url, monkeypatch, "Ashford")
    b_body = config_body(sim.url, monkeypatch, "Bexley")
    a = sync(store, settings, a_body)
    b = sync(store, settings, b_body)
    a_body["sources"][0]["connector"]["backoff_max_seconds"] = 0.2
    sync(store, settings, a_body)  # a second configuration version and run
    manage.rollback_version(store, "test", "Ashford", 1)
    clients = ApiClients(store.engine, settings.get_secret_key())
    for district in (a, b):
        clients.create(district, "lms", ["roster.readonly"], SharingRules.build())
    return store, a, b


def test_deleting_a_district_leaves_the_other_untouched(two: tuple[Store, int, int]) -> None:
    store, a, b = two
    reports = load_settings().data_dir / "reports"
    before_a, before_b = counts(store, a), counts(store, b)
    assert before_a["runs"] == 2
    assert before_a["roster_versions"] == 2
    assert before_a["config_versions"] == 2
    assert before_a["api_clients"] == 1
    assert before_a["run_events"] > 0
    assert before_a["change_sets"] > 0
    assert before_a["roster_users"] > 0
    a_runs = [r.id for r in manage.list_runs(store, a)]
    assert all((reports / f"run-{r}").is_dir() for r in a_runs)

    partitions = {t for t in tables(store) if t.endswith(f"_d{a}")}
    assert bool(partitions) == (store.engine.dialect.name == "postgresql")
    deleted = manage.delete_district(store, "test", "Ashford", reports_dir=reports)
    assert not partitions & tables(store)  # PostgreSQL: the district's partitions are dropped

    after_a, after_b = counts(store, a), counts(store, b)
    own = {k: v for k, v in after_a.items() if not k.endswith("*total")}
    assert own == dict.fromkeys(own, 0) | {"audit_log": 0}
    assert {k: v for k, v in after_b.items() if not k.endswith("*total")} == {
        k: v for k, v in before_b.items() if not k.endswith("*total")
    }
    for name, value in deleted.rows.items():
        assert value == before_a[name], name
    # Every whole table lost exactly the district's rows (the audit log gained one entry).
    for key, total in after_a.items():
        if key.endswith("*total"):
            name = key[: -len("*total")]
            expected = before_a[key] - before_a.get(name, 0)
            if name == "audit_log":
                expected = before_a[key] + 1
            elif name == "districts":
                expected = before_a[key] - 1
            assert total == expected, name
    assert sorted(deleted.reports_removed) == sorted(str(reports / f"run-{r}") for r in a_runs)
    assert all(not (reports / f"run-{r}").exists() for r in a_runs)
    assert any((reports / f"run-{r.id}").is_dir() for r in manage.list_runs(store, b))
    with pytest.raises(ConfigurationError, match="No district 'Ashford'"):
        store.get_district("Ashford")
    # The audit log keeps the district's history, and says who deleted it.
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).all()
    last = rows[-1]
    assert (last.actor, last.action, last.district_id) == ("test", "district.delete", None)
    assert json.loads(last.detail)["name"] == "Ashford"
    assert before_a["audit_log"] > 0
    assert sum(1 for r in rows if r.action == "roster.rollback") == 1
    # The other district still serves and syncs.
    assert manage.show_district(store, "Bexley").current_version == 1


def test_a_running_sync_refuses_the_delete(two: tuple[Store, int, int]) -> None:
    store, a, _ = two
    locks = RunLocks(store.engine)
    lock = locks.try_acquire(a, "sis", trigger="manual", run_id=None)
    try:
        with pytest.raises(RunInProgress, match="Ashford is already running"):
            manage.delete_district(store, "test", a)
    finally:
        locks.release(lock)
    assert manage.show_district(store, a).runs == 2
    manage.delete_district(store, "test", a)
    assert [d.name for d in manage.list_districts(store)] == ["Bexley"]


def test_show_district_counts_what_it_holds(two: tuple[Store, int, int]) -> None:
    store, _a, _ = two
    summary = manage.show_district(store, "ashford").as_dict()
    assert summary["name"] == "Ashford"
    assert (summary["current_version"], summary["versions"], summary["runs"]) == (2, 2, 2)
    assert (summary["api_clients"], summary["config_version"]) == (1, 2)
    with pytest.raises(ConfigurationError, match="No district 'Nowhere'"):
        manage.show_district(store, "Nowhere")


# -- the CLI -----------------------------------------------------------------------------------


def test_cli_delete_needs_yes_and_names_the_district(
    sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings()
    store = open_store(settings, upgrade=True)
    try:
        sync(store, settings, config_body(sim.url, monkeypatch, "Ashford"))
    finally:
        store.dispose()
    runner = CliRunner()
    refused = runner.invoke(app, ["districts", "delete", "Ashford"])
    assert refused.exit_code != 0
    assert "--yes" in refused.output or "--yes" in str(refused.exception)
    unknown = runner.invoke(app, ["districts", "delete", "Nowhere", "--yes"])
    assert unknown.exit_code != 0
    done = runner.invoke(app, ["districts", "delete", "ashford", "--yes", "--json"])
    assert done.exit_code == 0, done.output
    removed = json.loads(done.output)
    assert removed["name"] == "Ashford"
    assert removed["rows"]["runs"] == 1
    assert len(removed["reports_removed"]) == 1
    listed = runner.invoke(app, ["districts", "list", "--json"])
    assert json.loads(listed.output) == []
