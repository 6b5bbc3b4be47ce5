"""The README's LDAP section: its example is a valid configuration and every option is in it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from rostersync.config import parse_config_text
from rostersync.connectors.ldap import GroupOptions, LdapOptions, PeopleSearch

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "### An LDAP / Active Directory source"


def section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(HEADING)
    end = text.index("\n## ", start)
    return text[start:end]


def test_the_example_is_a_valid_source() -> None:
    example = re.search(r"```yaml\n(.*?)```", section(), re.S)
    assert example is not None
    sources = yaml.safe_load(example.group(1))
    text = yaml.safe_dump({"district": "Springfield", "sources": sources})
    config = parse_config_text(text, "README.md")
    assert config.sources[0].app == "ldap"
    assert config.sources[0].connector["students"]["attributes"] == {"grades": "department"}


def test_every_option_is_documented() -> None:
    text = section()
    for model in (LdapOptions, PeopleSearch, GroupOptions):
        for name in model.model_fields:
            assert f"`{name}`" in text or f"{name}:" in text, f"{model.__name__}.{name}"
