"""Files the installation writes are private (0600 in 0700 directories) even under umask 022."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from rostersync import fsutil
from rostersync.cli import app
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import (
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from support.configs import powerschool_config


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_private_dir_and_atomic_write(tmp_path: Path) -> None:
    made = fsutil.private_dir(tmp_path / "a" / "b")
    assert mode(made) == 0o700
    assert mode(tmp_path / "a") == 0o700
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    fsutil.private_dir(shared, narrow=False)
    assert mode(shared) == 0o755  # the admin's own choice is kept
    fsutil.private_dir(shared)
    assert mode(shared) == 0o700
    target = tmp_path / "f.txt"
    target.write_text("old")
    target.chmod(0o644)
    fsutil.atomic_write(target, "new")
    assert target.read_text() == "new"
    assert mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_create_exclusive_keeps_the_first(tmp_path: Path) -> None:
    key = tmp_path / "k"
    assert fsutil.create_exclusive(key, "one") is True
    assert fsutil.create_exclusive(key, "two") is False
    assert key.read_text() == "one"
    assert mode(key) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k"]


def test_narrow_files_and_a_missing_path(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a")
    fsutil.narrow_files(tmp_path)
    assert mode(tmp_path / "x.csv") == 0o600
    fsutil.make_private(tmp_path / "absent")  # no error for a file that is not there


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with run_simulator(generate_district("tiny", seed=7), SimulatorConfig()) as running:
        yield running


def ok(*args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(app, list(args), input=input)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_database_keys_reports_and_exports_are_private(
    sim: RunningSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "d.yaml"
    body = powerschool_config(sim.url, monkeypatch, district="Shelbyville")
    config.write_text(yaml.safe_dump(body), encoding="utf-8")
    run = json.loads(ok("sync", "run", "--config", str(config), "--json").stdout)
    ok("secrets", "set", "ps", "--district", "Shelbyville", input="value")
    ok("export", "oneroster-csv", "--out", str(tmp_path / "out" / "roster.zip"))
    ok("export", "oneroster-csv", "--out", str(tmp_path / "outdir"))
    load_settings().get_secret_key()
    data = tmp_path / "var"
    assert mode(data) == 0o700
    files = [
        data / "rostersync.db",
        data / "secrets.key",
        data / "secret.key",
        tmp_path / "out" / "roster.zip",
        *(tmp_path / "outdir").iterdir(),
    ]
    reports = data / "reports" / f"run-{run['run_id']}"
    assert mode(data / "reports") == 0o700
    assert mode(reports) == 0o700
    files += list(reports.iterdir())
    assert any(p.name == "report.json" for p in files)
    for wal in ("rostersync.db-wal", "rostersync.db-shm"):
        if (data / wal).exists():
            files.append(data / wal)
    for path in files:
        assert mode(path) == 0o600, path
    assert mode(tmp_path / "out") == 0o700
    assert mode(tmp_path / "outdir") == 0o700
