"""Helpers of the integration tests: a district configuration pointing at the simulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from rostersync.cli import app
from rostersync.config import DistrictConfig, validate_config
from rostersync.simulators.powerschool import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

DISTRICT = "Springfield Public Schools"


@dataclass
class Hook:
    """The webhook receiver: its URL and the JSON bodies it got, in order."""

    url: str
    events: list[dict[str, Any]] = field(default_factory=list)

    def kinds(self) -> list[str]:
        return [e["event"] for e in self.events]


def config_body(
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    hook_url: str | None = None,
    connector: dict[str, Any] | None = None,
    filter_rules: dict[str, Any] | None = None,
    **advanced: Any,
) -> dict[str, Any]:
    """A one-source PowerSchool configuration (secret through an env variable)."""
    monkeypatch.setenv("PS_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
    source: dict[str, Any] = {
        "name": "sis",
        "app": "powerschool",
        "delivery": {
            "url": url,
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": "env:PS_CLIENT_SECRET",
        },
        "connector": {
            "backoff_base_seconds": 0.01,
            "backoff_max_seconds": 0.05,
            **(connector or {}),
        },
        "advanced": {"compare_by_uniqueness": False, **advanced},
    }
    if filter_rules is not None:
        source["filter_rules"] = filter_rules
    body: dict[str, Any] = {"district": DISTRICT, "sources": [source]}
    if hook_url is not None:
        body["notifications"] = {"webhook_url": hook_url}
    return body


def make_config(url: str, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> DistrictConfig:
    return validate_config(config_body(url, monkeypatch, **kwargs), "test configuration")


def write_config(path: Path, url: str, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Path:
    path.write_text(yaml.safe_dump(config_body(url, monkeypatch, **kwargs)), encoding="utf-8")
    return path


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))
