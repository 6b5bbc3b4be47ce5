"""Helpers of the end-to-end tests: write a configuration, run the CLI, read the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from rostersync.cli import app
from rostersync.model import Roster
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import DEFAULT_CLIENT_SECRET
from rostersync.store import Store, open_store
from support.configs import powerschool_config


def write_config(
    path: Path,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    district: str = "Springfield Public Schools",
    secret: str = DEFAULT_CLIENT_SECRET,
    **advanced: Any,
) -> Path:
    """A one-source PowerSchool configuration; the secret goes through an env variable."""
    body = powerschool_config(url, monkeypatch, district=district, secret=secret, **advanced)
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def sync(config: Path, *extra: str) -> Result:
    return CliRunner().invoke(app, ["sync", "run", "--config", str(config), *extra])


def sync_json(config: Path) -> dict[str, Any]:
    result = sync(config, "--json")
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def store() -> Store:
    return open_store(load_settings())


def published(district: str = "Springfield Public Schools") -> tuple[int | None, Roster]:
    s = store()
    try:
        d = s.get_district(district)
        version = s.current_version(d.id)
        return version, (s.read_version(d.id) if version is not None else {})
    finally:
        s.dispose()
