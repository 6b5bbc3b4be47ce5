"""Settings: defaults, secret handling, and one-line errors for bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rostersync.errors import ConfigurationError
from rostersync.settings import Settings, load_settings, redact_url


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "rostersync", *args],
        capture_output=True,
        text=True,
        env=full_env,
        check=False,
    )


def test_default_database_is_sqlite_in_data_dir(tmp_path: Path) -> None:
    settings = load_settings()
    assert (
        settings.resolved_database_url == f"sqlite:///{(tmp_path / 'var').resolve()}/rostersync.db"
    )


def test_secret_key_generated_once_and_kept(tmp_path: Path) -> None:
    settings = load_settings()
    key = settings.get_secret_key()
    key_file = tmp_path / "var" / "secret.key"
    assert key_file.exists()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert load_settings().get_secret_key() == key
    assert len(key) >= 32


def test_short_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROSTERSYNC_SECRET_KEY", "short")
    with pytest.raises(ConfigurationError) as info:
        load_settings().get_secret_key()
    assert info.value.setting == "ROSTERSYNC_SECRET_KEY"


def test_malformed_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROSTERSYNC_SMTP_PORT", "not-a-port")
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    assert info.value.setting == "ROSTERSYNC_SMTP_PORT"


def test_read_only_data_dir_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.geteuid() == 0:
        # root ignores permission bits: use a path below a regular file instead
        blocker = tmp_path / "file"
        blocker.write_text("x")
        monkeypatch.setenv("ROSTERSYNC_DATA_DIR", str(blocker / "var"))
    else:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        monkeypatch.setenv("ROSTERSYNC_DATA_DIR", str(ro / "var"))
    with pytest.raises(ConfigurationError) as info:
        load_settings().ensure_data_dir()
    assert info.value.setting == "ROSTERSYNC_DATA_DIR"


def test_redact_url_hides_password() -> None:
    assert redact_url("postgresql://u:pw@h:5432/db") == "postgresql://u:********@h:5432/db"
    assert redact_url("sqlite:///x.db") == "sqlite:///x.db"


def test_every_setting_is_documented() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no help text"
        assert f"ROSTERSYNC_{name.upper()}" in readme, f"setting {name} missing from README"


def test_cli_settings_redacts_secrets() -> None:
    result = run_cli(
        "settings",
        "--json",
        env={
            "ROSTERSYNC_SMTP_PASSWORD": "hunter2-very-secret",
            "ROSTERSYNC_DATABASE_URL": "postgresql://app:dbpass@db/rs",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "hunter2-very-secret" not in result.stdout
    assert "dbpass" not in result.stdout
    assert '"smtp_password": "********"' in result.stdout


def test_cli_bad_setting_is_one_line_not_a_traceback() -> None:
    result = run_cli("settings", env={"ROSTERSYNC_LOG_LEVEL": "LOUD"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "ROSTERSYNC_LOG_LEVEL" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
