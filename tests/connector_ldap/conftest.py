"""Fixtures: one real ``slapd`` per test session, holding Springfield's directory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connector_ldap.district import Springfield, populate
from connector_ldap.slapd import Slapd, start_slapd


@dataclass
class Directory:
    """A running directory and what was written into it."""

    server: Slapd
    written: Springfield

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="session")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Directory]:
    path: Path = tmp_path_factory.mktemp("slapd")
    server = start_slapd(path)
    try:
        yield Directory(server, populate(server.url))
    finally:
        server.stop()
