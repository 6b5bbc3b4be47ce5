"""The configuration wizard through the service layer, on SQLite and PostgreSQL, against the
PowerSchool simulator: each step is checked by the configuration validator and saved as a new
version; the secret goes to the secret store; FINISH waits for Attributes Mapping; the result
syncs; YAML goes out and comes back in; bad input is named by its path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from rostersync import manage
from rostersync.admin.secrets import SecretStore
from rostersync.config import validate_config
from rostersync.errors import ConfigurationError, ConfigValidationError
from rostersync.manage import sis, wizard
from rostersync.settings import Settings, load_settings
from rostersync.simulators.powerschool import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    RunningSimulator,
)
from rostersync.store import Store
from rostersync.store.schema import audit_log, config_versions
from rostersync.sync import run_sync, sync_config
from support.configs import powerschool_config

FAST = {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.1}


def delivery(url: str, secret: str | None = DEFAULT_CLIENT_SECRET) -> dict[str, Any]:
    typed = {"url": url, "client_id": DEFAULT_CLIENT_ID}
    if secret is not None:
        typed["client_secret"] = secret
    return {"delivery": typed, "connector": FAST, "advanced": {"compare_by_uniqueness": False}}


def problems(exc: pytest.ExceptionInfo[ConfigValidationError]) -> dict[str, str]:
    return {p.path: p.message for p in exc.value.problems}


def activated(store: Store, settings: Settings, url: str, name: str = "Ashford") -> int:
    """A district whose PowerSchool source ``sis`` went through Activate → Delivery Config."""
    d = store.create_district(name)
    new = {"name": "sis", "app": "powerschool", "sync_mode": "import"}
    wizard.save_step(store, settings, "admin:ann", d.id, "delivery", {**new, **delivery(url)})
    return d.id


def test_the_journey_saves_a_version_per_step_and_the_result_syncs(
    store: Store, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings()
    d = store.create_district("Ashford")
    fresh = wizard.wizard_state(store, d.id)
    assert (fresh.source, fresh.config_version, fresh.next_step) == (None, None, "activate")
    assert [s.step.key for s in fresh.steps][:4] == [
        "activate",
        "sync_mode",
        "delivery",
        "schools_mapping",
    ]

    # Activate and Sync Mode of a new source are checked and carried forward, not saved.
    step = wizard.save_step(
        store, settings, "admin:ann", d.id, "activate", {"app": "powerschool", "name": "sis"}
    )
    assert (step.version, step.pending["name"], step.pending["app"]) == (None, "sis", "powerschool")
    mode = wizard.save_step(
        store, settings, "admin:ann", d.id, "sync_mode", {**step.pending, "sync_mode": "import"}
    )
    assert mode.version is None
    assert manage.list_config_versions(store, d.id) == []

    saved = wizard.save_step(
        store, settings, "admin:ann", d.id, "delivery", {**mode.pending, **delivery(sim.url)}
    )
    assert saved.version == 1
    _, body = manage.get_config_version(store, d.id, 1)
    source = body["sources"][0]
    assert source["delivery"]["client_secret"] == "store:sis-client-secret"
    assert DEFAULT_CLIENT_SECRET not in json.dumps(body)
    stored = SecretStore(store, settings).get(d.id, "sis-client-secret")
    assert stored == DEFAULT_CLIENT_SECRET
    assert saved.state.next_step == "schools_mapping"
    assert not saved.state.can_finish

    with pytest.raises(ConfigurationError, match="FINISH is allowed once") as early:
        wizard.finish(store, "admin:ann", d.id)
    assert early.value.hint == "next step to save: schools_mapping"

    # The same secret is kept when Delivery Config is saved again without it.
    again = wizard.save_step(
        store, settings, "admin:ann", d.id, "delivery", delivery(sim.url, secret=None)
    )
    assert again.version == 2
    schools = wizard.save_step(
        store, settings, "admin:ann", d.id, "schools_mapping", {"schools_mapping": "auto"}
    )
    mapping = {"student": {"email": "U_DEF_EXT_STUDENTS.school_email"}}
    mapped = wizard.save_step(
        store, settings, "admin:ann", d.id, "attribute_mapping", {"attribute_mapping": mapping}
    )
    assert (schools.version, mapped.version) == (3, 4)
    assert mapped.state.can_finish
    assert not mapped.state.finished
    assert mapped.state.next_step == "data_requirements"

    done = wizard.finish(store, "admin:ann", d.id)
    assert done.version == 5
    assert done.state.finished
    infos = manage.list_config_versions(store, d.id)
    assert [i.comment for i in infos] == [
        "wizard done: sis",
        "wizard attribute_mapping: sis",
        "wizard schools_mapping: sis",
        "wizard delivery: sis",
        "wizard delivery: sis",
    ]
    diff = manage.diff_config_versions(store, d.id, 3, 4)
    assert [c.path for c in diff.changes] == ["sources[0].attribute_mapping.student"]

    # What the wizard saved syncs exactly as the same configuration written by hand.
    outcome = run_sync(store, d.id, settings=settings)
    assert outcome.status == "succeeded"
    by_hand = powerschool_config(
        sim.url, monkeypatch, district="Control", compare_by_uniqueness=False
    )
    control = sync_config(store, validate_config(by_hand, "by hand"), settings)
    assert outcome.summary == control.summary
    assert outcome.summary["students"] > 0
    with store.engine.connect() as conn:
        actions = conn.execute(
            sa.select(audit_log.c.action, audit_log.c.detail).where(audit_log.c.district_id == d.id)
        ).all()
    steps = [json.loads(a.detail)["step"] for a in actions if a.action == "config.wizard"]
    assert steps == ["delivery", "delivery", "schools_mapping", "attribute_mapping", "done"]
    assert all(DEFAULT_CLIENT_SECRET not in (a.detail or "") for a in actions)


def test_each_bad_value_is_named_by_its_path_and_nothing_is_saved(
    store: Store, sim: RunningSimulator
) -> None:
    settings = load_settings()
    d = activated(store, settings, sim.url)

    with pytest.raises(ConfigValidationError) as bad:
        wizard.save_step(
            store,
            settings,
            "admin:ann",
            d,
            "delivery",
            {"delivery": {"url": "sis.example.org", "client_id": ""}},
        )
    assert problems(bad).keys() == {
        "sources[0].delivery.url",
        "sources[0].delivery.client_id",
    }
    with pytest.raises(ConfigValidationError) as unknown_attr:
        wizard.save_step(
            store,
            settings,
            "admin:ann",
            d,
            "attribute_mapping",
            {"attribute_mapping": {"student": {"emial": "STUDENTS.first_name"}}},
        )
    assert problems(unknown_attr) == {
        "sources[0].attribute_mapping.student.emial": "unknown attribute 'emial' for student; "
        "did you mean 'email'?"
    }
    with pytest.raises(ConfigValidationError) as wrong_key:
        wizard.save_step(store, settings, "admin:ann", d, "schools_mapping", {"filter_rules": {}})
    assert "not a setting of this step" in problems(wrong_key)["filter_rules"]
    with pytest.raises(ConfigurationError, match="No wizard step 'colours'"):
        wizard.save_step(store, settings, "admin:ann", d, "colours", {})
    with pytest.raises(ConfigurationError, match="already activated as 'powerschool'"):
        wizard.save_step(store, settings, "admin:ann", d, "activate", {"app": "ldap"})
    # Secrets read on the server (env:, file:) are for operators only.
    hooks = {"notifications": {"webhook_url": "https://x.example", "webhook_secret": "env:HOME"}}
    with pytest.raises(ConfigValidationError) as server_secret:
        wizard.save_step(store, settings, "admin:ann", d, "sync_schedule", hooks)
    assert "use store:NAME" in problems(server_secret)["notifications.webhook_secret"]
    with pytest.raises(ConfigValidationError) as schedule:
        wizard.save_step(
            store,
            settings,
            "admin:ann",
            d,
            "sync_schedule",
            {"sync_schedule": {"every": "weekly", "at": "25:00", "timezone": "Mars/Olympus"}},
        )
    found = problems(schedule)
    assert "not a time of day" in found["sync_schedule.at"]
    assert "IANA time zone" in found["sync_schedule.timezone"]
    with store.engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count()).where(config_versions.c.district_id == d)
        ).scalar_one()
    assert count == 1  # only the first Delivery Config


def test_a_new_source_is_checked_before_anything_is_kept(store: Store) -> None:
    settings = load_settings()
    d = store.create_district("Bexley")
    with pytest.raises(ConfigValidationError) as bad:
        wizard.save_step(
            store,
            settings,
            "admin:ann",
            d.id,
            "activate",
            {"app": "blackboard", "name": "My SIS", "sync_mode": "sideways"},
        )
    assert problems(bad).keys() == {"name", "app", "sync_mode"}
    assert "not an installed app" in problems(bad)["app"]
    with pytest.raises(ConfigurationError, match="Source 'sis' is not activated yet"):
        wizard.save_step(
            store,
            settings,
            "admin:ann",
            d.id,
            "schools_mapping",
            {"name": "sis", "schools_mapping": "auto"},
        )
    new = {"name": "sis", "app": "powerschool"}
    with pytest.raises(ConfigValidationError) as no_secret:
        wizard.save_step(
            store, settings, "admin:ann", d.id, "delivery", {**new, **delivery("http://x", None)}
        )
    assert problems(no_secret) == {
        "sources[0].delivery.client_secret": "the client secret is required"
    }
    assert SecretStore(store, settings).list_secrets(d.id) == []
    assert manage.list_config_versions(store, d.id) == []


def test_export_and_import_yaml(store: Store, sim: RunningSimulator) -> None:
    settings = load_settings()
    d = activated(store, settings, sim.url)
    text = wizard.export_yaml(store, d)
    assert text.startswith("district: Ashford\n")
    assert "store:sis-client-secret" in text

    edited = text.replace("schools_mapping: auto", "schools_mapping: [{source_id: '1'}]")
    state = wizard.import_yaml(store, "admin:ann", d, edited)
    assert state.config_version == 2
    assert state.can_finish
    assert state.next_step == "done"
    assert state.source_values()["schools_mapping"] == [{"source_id": "1"}]
    assert manage.list_config_versions(store, d)[0].comment == "wizard import"

    with pytest.raises(ConfigValidationError) as other:
        wizard.import_yaml(store, "admin:ann", d, text.replace("Ashford", "Bexley"))
    assert problems(other) == {"district": "is 'Bexley', but this is district 'Ashford'"}
    with pytest.raises(ConfigValidationError) as broken:
        wizard.import_yaml(store, "admin:ann", d, "district: Ashford\nsources: [\n")
    assert broken.value.source == "the imported file"
    with pytest.raises(ConfigValidationError) as env_ref:
        wizard.import_yaml(
            store, "admin:ann", d, text.replace("store:sis-client-secret", "env:HOME")
        )
    assert "use store:NAME" in problems(env_ref)["sources[0].delivery.client_secret"]
    # An operator may name a secret read on the server.
    state = wizard.import_yaml(
        store,
        "admin:op",
        d,
        text.replace("store:sis-client-secret", "env:PS_SECRET"),
        server_secrets=True,
    )
    assert state.config_version == 3


def test_the_gallery_lists_the_installed_apps() -> None:
    cards = {c.app: c for c in wizard.gallery()}
    assert cards["powerschool"].title == "PowerSchool SIS"
    assert cards["powerschool"].summary.startswith("Reads a PowerSchool district")
    with pytest.raises(ConfigurationError, match="No app 'blackboard'"):
        wizard.app_card("blackboard")


def test_an_app_that_reads_files_has_no_delivery(store: Store, tmp_path: Path) -> None:
    """A OneRoster CSV source: Delivery Config is its options (where the files are), no URL,
    client or secret; Test Connection says what is wrong with the place it points at."""
    settings = load_settings()
    d = store.create_district("Bexley")
    assert not wizard.uses_delivery("oneroster_csv")
    cards = {c.app: c for c in wizard.gallery()}
    assert cards["oneroster_csv"].title == "OneRoster CSV"
    assert not cards["oneroster_csv"].uses_delivery
    missing = tmp_path / "nowhere.zip"
    new = {"name": "csv", "app": "oneroster_csv", "connector": {"path": str(missing)}}
    with pytest.raises(ConfigValidationError) as both:
        wizard.save_step(store, settings, "admin:ann", d.id, "delivery", {**new, "connector": {}})
    assert "give exactly one of path" in str(both.value)
    saved = wizard.save_step(store, settings, "admin:ann", d.id, "delivery", new)
    assert saved.version == 1
    _, body = manage.get_config_version(store, d.id)
    assert "delivery" not in body["sources"][0]
    assert SecretStore(store, settings).list_secrets(d.id) == []
    check = sis.check_connection(store, settings, d.id)
    assert not check.report.ok
    assert str(missing) in check.report.message
    draft = sis.check_connection(
        store, settings, d.id, "other", app="oneroster_csv", connector={"path": str(missing)}
    )
    assert not draft.report.ok
