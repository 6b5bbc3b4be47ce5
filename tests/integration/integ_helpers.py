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
from support.configs import powerschool_config

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
    """The shared one-source configuration, without attribute mapping, quicker to give up."""
    return powerschool_config(
        url,
        monkeypatch,
        district=DISTRICT,
        connector={"backoff_max_seconds": 0.05, **(connector or {})},
        attribute_mapping=None,
        filter_rules=filter_rules,
        webhook_url=hook_url,
        **advanced,
    )


def make_config(url: str, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> DistrictConfig:
    return validate_config(config_body(url, monkeypatch, **kwargs), "test configuration")


def write_config(path: Path, url: str, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Path:
    path.write_text(yaml.safe_dump(config_body(url, monkeypatch, **kwargs)), encoding="utf-8")
    return path


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))
