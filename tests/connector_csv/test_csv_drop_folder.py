"""The drop folder: packages imported oldest first, one per extract, each filed with its report."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest
from csv_helpers import PackageFactory, edit, lines

from rostersync.connectors.oneroster_csv import CsvOptions, OneRosterCsvConnector
from rostersync.errors import SourceDataError, SourceUnreachable


def _connector(folder: Path) -> OneRosterCsvConnector:
    return OneRosterCsvConnector(CsvOptions(drop_folder=str(folder)), source="csv")


def _age(path: Path, seconds_ago: float) -> None:
    when = time.time() - seconds_ago
    os.utime(path, (when, when))


def test_packages_are_imported_in_order_and_filed(
    make_package: PackageFactory, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    first = make_package("1.2", "monday", zip=True).rename(drop / "monday.zip")
    broken = make_package("1.2", "tuesday")
    edit(broken, "orgs.csv", "\r\n".join([*lines(broken, "orgs.csv"), "x,,,X,campus,,"]) + "\r\n")
    broken = broken.rename(drop / "tuesday")
    third = make_package("1.1", "wednesday", zip=True).rename(drop / "wednesday.zip")
    fresh = make_package("1.2", "arriving", zip=True).rename(drop / "arriving.zip")
    for age, path in ((300, first), (200, broken), (100, third)):
        _age(path, age)
    connector = _connector(drop)

    result = asyncio.run(connector.extract())
    assert result.stats["package"] == "monday.zip"
    assert (drop / "processed" / "monday.zip").is_file()
    report = json.loads((drop / "processed" / "monday.zip.report.json").read_text())
    assert report["version"] == "1.2"
    assert report["files"]["users.csv"] == result.roster["users"].height

    with pytest.raises(SourceDataError, match=r"orgs\.csv row \d+, column type: 'campus'"):
        asyncio.run(connector.extract())
    assert (drop / "failed" / "tuesday" / "manifest.csv").is_file()
    failed = json.loads((drop / "failed" / "tuesday.report.json").read_text())
    assert failed["problems"][0]["file"] == "orgs.csv"
    assert failed["problems"][0]["row"] == len(lines(drop / "failed" / "tuesday", "orgs.csv"))
    assert "campus" in failed["error"]

    assert asyncio.run(connector.extract()).stats["oneroster_version"] == "1.1"
    # the package still being written (modified just now) waits for the next sync
    with pytest.raises(SourceUnreachable, match="No new OneRoster CSV package"):
        asyncio.run(connector.extract())
    assert fresh.exists()
    assert sorted(p.name for p in (drop / "processed").iterdir()) == [
        "monday.zip",
        "monday.zip.report.json",
        "wednesday.zip",
        "wednesday.zip.report.json",
    ]


def test_a_package_dropped_twice_is_filed_under_a_new_name(
    make_package: PackageFactory, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    connector = _connector(drop)
    for _ in range(2):
        package = make_package("1.2", "daily", zip=True).rename(drop / "daily.zip")
        _age(package, 60)
        asyncio.run(connector.extract())
    assert sorted(p.name for p in (drop / "processed").glob("*.zip")) == [
        "daily.1.zip",
        "daily.zip",
    ]


def test_a_dangling_link_in_the_drop_folder_is_not_a_package(
    make_package: PackageFactory, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "gone.zip").symlink_to(tmp_path / "nowhere.zip")
    connector = _connector(drop)
    assert asyncio.run(connector.test_connection()).details == {"pending": 0}
    _age(make_package("1.2", "p", zip=True).rename(drop / "p.zip"), 60)
    assert asyncio.run(connector.extract()).stats["package"] == "p.zip"
    assert (drop / "gone.zip").is_symlink()  # left where it is


def test_the_connection_test_says_what_waits(make_package: PackageFactory, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    connector = _connector(drop)
    empty = asyncio.run(connector.test_connection())
    assert empty.ok
    assert "no package waits" in empty.message
    _age(make_package("1.2", "p", zip=True).rename(drop / "p.zip"), 60)
    report = asyncio.run(connector.test_connection())
    assert report.ok
    assert report.details["pending"] == 1
    assert report.school_count
    assert (drop / "p.zip").exists()  # a connection test files nothing


def test_a_missing_drop_folder_is_a_clear_error(tmp_path: Path) -> None:
    connector = _connector(tmp_path / "nowhere")
    report = asyncio.run(connector.test_connection())
    assert not report.ok
    assert "The drop folder" in report.message
    assert "does not exist" in report.message
    with pytest.raises(SourceUnreachable, match="does not exist"):
        asyncio.run(connector.extract())


def test_options_name_exactly_one_place() -> None:
    from rostersync.connectors.oneroster_csv import parse_options
    from rostersync.errors import ConfigValidationError

    with pytest.raises(ConfigValidationError) as caught:
        parse_options({"path": "a.zip", "drop_folder": "drop"}, "sources[0].connector")
    assert "give exactly one of path (one package) or drop_folder" in str(caught.value.problems)
    with pytest.raises(ConfigValidationError) as caught:
        parse_options({"max_package_mb": 0, "path": "a.zip"}, "sources[0].connector")
    assert caught.value.problems[0].path == "sources[0].connector.max_package_mb"
