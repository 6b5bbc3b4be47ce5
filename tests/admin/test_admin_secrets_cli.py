"""`rostersync secrets …` and a sync whose source secret is ``store:NAME``: the run works, and the
planted value appears nowhere the installation writes (outputs, logs, reports, database)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from admin_cli import cli, ok

from rostersync.errors import ConfigurationError
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import (
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from rostersync.store import open_store
from rostersync.store.schema import config_versions
from support.configs import powerschool_config

PLAIN = "Pl4nted-ps-Secret-91c2e0"
DISTRICT = "Springfield Public Schools"


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with run_simulator(
        generate_district("tiny", seed=5), SimulatorConfig(client_secret=PLAIN)
    ) as running:
        yield running


def store_config(path: Path, url: str, monkeypatch: pytest.MonkeyPatch, ref: str) -> Path:
    body = powerschool_config(url, monkeypatch, district=DISTRICT)
    body["sources"][0]["delivery"]["client_secret"] = ref
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def everything_written(root: Path) -> Iterator[tuple[Path, bytes]]:
    for path in root.rglob("*"):
        if path.is_file():
            yield path, path.read_bytes()


def test_a_sync_reads_its_source_secret_from_the_store_and_never_writes_it(
    sim: RunningSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROSTERSYNC_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("ROSTERSYNC_LOG_FORMAT", "json")
    monkeypatch.delenv("PS_CLIENT_SECRET", raising=False)
    outputs: list[str] = []
    config = store_config(tmp_path / "d.yaml", sim.url, monkeypatch, "store:ps")
    monkeypatch.delenv("PS_CLIENT_SECRET")  # the store is the only place the value is
    outputs.append(ok("db", "upgrade").output)
    outputs.append(ok("districts", "create", DISTRICT).output)
    # No secret stored yet: a clear error naming the setting and the command to use.
    missing = cli("--as", "ops@district", "sync", "run", "--config", str(config), "--quiet")
    assert isinstance(missing.exception, ConfigurationError)
    assert "sources[0].delivery.client_secret: no stored secret named 'ps'" in str(
        missing.exception
    )
    assert "rostersync secrets set ps" in (missing.exception.hint or "")

    stored = ok(
        "--as", "ops@district", "secrets", "set", "ps", "--district", DISTRICT, input=PLAIN + "\n"
    )
    outputs.append(stored.output)
    assert "stored secret ps" in stored.output
    synced = ok("sync", "run", "--config", str(config), "--json")
    outputs.append(synced.output)
    assert json.loads(synced.stdout)["status"] == "succeeded"
    outputs.append(ok("config", "validate", str(config)).output)
    outputs.append(ok("powerschool", "test", "--config", str(config)).output)
    listed = ok("secrets", "list", "--json")
    outputs.append(listed.output)
    rows = json.loads(listed.stdout)
    assert [(r["district"], r["name"]) for r in rows] == [(DISTRICT, "ps")]
    outputs.append(ok("secrets", "list").output)
    outputs.append(ok("secrets", "rotate-key").output)
    outputs.append(ok("sync", "run", "--config", str(config), "--json").output)  # new key works
    store = open_store(load_settings())
    district_id = store.get_district(DISTRICT).id
    assert store.get_config_version(district_id)[0] >= 1
    with store.engine.connect() as conn:
        authors = set(conn.execute(sa.select(config_versions.c.created_by)).scalars())
    store.dispose()
    assert authors == {"ops@district"}  # the configuration version's author is the actor
    outputs.append(ok("audit", "list", "--csv").output)
    assert "ops@district,secret.set" in outputs[-1]

    for text in outputs:
        assert PLAIN not in text
    for path, data in everything_written(tmp_path):
        if path.name == "d.yaml":
            continue
        assert PLAIN.encode() not in data, f"the planted secret is in {path}"


def test_bad_input_of_the_secrets_commands(tmp_path: Path) -> None:
    ok("db", "upgrade")
    ok("districts", "create", DISTRICT)
    empty = cli("secrets", "set", "ps", "--district", DISTRICT, input="")
    assert isinstance(empty.exception, ConfigurationError)
    assert "nothing was given" in str(empty.exception)
    bad_name = cli("secrets", "set", "no spaces", "--district", DISTRICT, input="x")
    assert isinstance(bad_name.exception, ConfigurationError)
    assert "is not allowed" in str(bad_name.exception)
    nowhere = cli("secrets", "set", "ps", "--district", "Nowhere", input="x")
    assert nowhere.exit_code != 0
    assert "Nowhere" in str(nowhere.exception)
    gone = cli("secrets", "delete", "ps", "--district", DISTRICT)
    assert isinstance(gone.exception, ConfigurationError)
    assert "has no secret named 'ps'" in str(gone.exception)
    bad_actor = cli("--as", "two words", "secrets", "list")
    assert isinstance(bad_actor.exception, ConfigurationError)
    assert "--as" in str(bad_actor.exception)
    ok("secrets", "set", "ps", "--district", DISTRICT, input="v")
    ok("secrets", "delete", "ps", "--district", DISTRICT)
    assert json.loads(ok("secrets", "list", "--json").stdout) == []
