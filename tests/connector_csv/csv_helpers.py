"""Helpers of the OneRoster CSV source tests: reading a package, editing one file of it."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rostersync.connectors import Extraction
from rostersync.connectors.oneroster_csv import CsvOptions, OneRosterCsvConnector
from rostersync.errors import SourceError

#: ``make_package(version, name, zip=False, previous=None, roster=None)`` (conftest)
PackageFactory = Callable[..., Path]

DISTRICT_CONFIG: dict[str, Any] = {
    "district": "Springfield",
    "sources": [
        {
            "name": "sis",
            "app": "powerschool",
            "delivery": {
                "url": "http://127.0.0.1:9",
                "client_id": "unused",
                "client_secret": "env:UNUSED_SECRET",
            },
            "advanced": {"compare_by_uniqueness": False},
        }
    ],
}


def connector(path: Path, **options: Any) -> OneRosterCsvConnector:
    return OneRosterCsvConnector(CsvOptions(path=str(path), **options), source="csv")


def extract(path: Path, **options: Any) -> Extraction:
    return asyncio.run(connector(path, **options).extract())  # type: ignore[no-any-return]


def failure(path: Path, **options: Any) -> SourceError:
    """The error importing ``path`` gives; fails the test when it imports."""
    with pytest.raises(SourceError) as caught:
        extract(path, **options)
    assert "Traceback" not in str(caught.value)
    return caught.value


def copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def edit(folder: Path, file: str, text: str) -> None:
    (folder / file).write_text(text, encoding="utf-8")


def lines(folder: Path, file: str) -> list[str]:
    return (folder / file).read_text(encoding="utf-8").splitlines()


def set_manifest(folder: Path, key: str, value: str | None) -> None:
    """Set (or with None remove) one manifest property."""
    rows = [r for r in lines(folder, "manifest.csv") if not r.startswith(f"{key},")]
    if value is not None:
        rows.append(f"{key},{value}")
    edit(folder, "manifest.csv", "\r\n".join(rows) + "\r\n")
