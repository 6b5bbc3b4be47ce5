"""Secret references resolve from the environment, files or the store, never from the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from rostersync.config import resolve_secret
from rostersync.errors import ConfigurationError
from rostersync.settings import load_settings


def test_env_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PS_SECRET_T", "s3cret")
    secret = resolve_secret("env:PS_SECRET_T", load_settings())
    assert secret.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(secret)


def test_unset_env_names_variable_and_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PS_SECRET_T", raising=False)
    with pytest.raises(ConfigurationError) as info:
        resolve_secret("env:PS_SECRET_T", load_settings(), path="sources[0].delivery.client_secret")
    assert "PS_SECRET_T" in str(info.value)
    assert info.value.setting == "sources[0].delivery.client_secret"


def test_file_reference_absolute_and_relative(tmp_path: Path) -> None:
    settings = load_settings()
    secret_file = tmp_path / "ps.secret"
    secret_file.write_text("from-file\n", encoding="utf-8")
    assert resolve_secret(f"file:{secret_file}", settings).get_secret_value() == "from-file"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "rel.secret").write_text("rel", encoding="utf-8")
    assert resolve_secret("file:rel.secret", settings).get_secret_value() == "rel"


def test_unreadable_file_and_unknown_store_name(tmp_path: Path) -> None:
    settings = load_settings()
    with pytest.raises(ConfigurationError, match="cannot read secret file"):
        resolve_secret(f"file:{tmp_path / 'nope'}", settings)
    with pytest.raises(ConfigurationError, match="no stored secret"):
        resolve_secret("store:ps", settings)
    found = resolve_secret("store:ps", settings, store_lookup={"ps": "v"}.get)
    assert found.get_secret_value() == "v"
    with pytest.raises(ConfigurationError, match="not a secret reference"):
        resolve_secret("hunter2", settings)
