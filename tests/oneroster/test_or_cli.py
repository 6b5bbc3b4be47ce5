"""The OneRoster commands against a published store: api-clients, export oneroster-csv (bulk,
delta, per client) re-imported by the independent reader and compared with the store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl
import pytest
from or_csv_reader import (
    as_records,
    check_formats,
    expected,
    load_reference,
    normalise,
    read_package,
    to_canonical,
)
from or_sample_roster import small_roster
from typer.testing import CliRunner

from rostersync.cli import app, main
from rostersync.logs import configure_logging
from rostersync.model import Roster
from rostersync.settings import load_settings
from rostersync.store import open_store

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


@pytest.fixture
def published() -> tuple[Roster, Roster]:
    """Version 1 = the small roster; version 2 renames a student and drops another."""
    configure_logging("WARNING")  # rebind logging to this test's stderr (CliRunner swaps it)
    store = open_store(load_settings(), upgrade=True)
    district = store.create_district("Springfield")
    v1 = small_roster()
    store.publish(district.id, v1)
    v2 = {k: t.clone() for k, t in v1.items()}
    v2["users"] = (
        v2["users"]
        .with_columns(
            pl.when(pl.col("sourcedId") == "u-s2")
            .then(pl.lit("Robert"))
            .otherwise(pl.col("givenName"))
            .alias("givenName")
        )
        .filter(pl.col("sourcedId") != "u-s3")
    )
    v2["demographics"] = v2["demographics"].filter(pl.col("sourcedId") != "u-s3")
    v2["enrollments"] = v2["enrollments"].filter(pl.col("userSourcedId") != "u-s3")
    store.publish(district.id, v2)
    stored = store.read_version(district.id)
    store.dispose()
    return v1, stored


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_export_round_trip_equals_the_stored_version(
    tmp_path: Path, published: tuple[Roster, Roster], version: str
) -> None:
    reference = load_reference()
    out = tmp_path / f"or{version}.zip"
    invoke("export", "oneroster-csv", "--version", version, "--out", str(out))
    files = read_package(out)
    check_formats(reference, version, files)
    got = to_canonical(version, files)
    _, stored = published
    want = expected(stored, version)
    assert set(got) == set(want)
    for name in want:
        assert normalise(got[name], version, name) == normalise(want[name], version, name), name


def test_delta_since_version_one(tmp_path: Path, published: tuple[Roster, Roster]) -> None:
    out = tmp_path / "delta"
    printed = invoke(
        "export",
        "oneroster-csv",
        "--version",
        "1.1",
        "--delta-since",
        "1",
        "--out",
        str(out),
        "--json",
    )
    result = json.loads(printed)
    assert result["mode"] == "delta"
    assert result["files"] == {"users": 2, "demographics": 1, "enrollments": 1}
    files = read_package_dir(out)
    users = {r["sourcedId"]: r for r in as_records(files["users.csv"])}
    assert users["u-s2"]["status"] == "active"
    assert users["u-s2"]["givenName"] == "Robert"
    assert users["u-s3"]["status"] == "tobedeleted"
    # Deleted by version 2: stamped with its publish time, as REST serves the tombstone (and as
    # version 2 stamped the record it changed), not with the time of the export.
    assert users["u-s2"]["dateLastModified"]
    assert users["u-s3"]["dateLastModified"] == users["u-s2"]["dateLastModified"]


def read_package_dir(path: Path) -> dict[str, list[list[str]]]:
    import csv

    out = {}
    for p in path.iterdir():
        with p.open(encoding="utf-8-sig", newline="") as fh:
            out[p.name] = list(csv.reader(fh))
    return out


def test_api_client_create_list_and_client_limited_export(
    tmp_path: Path, published: tuple[Roster, Roster]
) -> None:
    printed = invoke(
        "api-clients",
        "create",
        "--district",
        "springfield",
        "--name",
        "LMS",
        "--scopes",
        "roster-core.readonly,roster.readonly",
        "--entities",
        "orgs,classes,courses,academicSessions,enrollments,students,teachers",
        "--json",
    )
    issued = json.loads(printed)
    assert issued["client_secret"]
    assert issued["sharing"]["entities"] == sorted(
        ["orgs", "classes", "courses", "academicSessions", "enrollments", "students", "teachers"]
    )
    listed = invoke("api-clients", "list", "--district", "Springfield", "--json")
    assert issued["client_secret"] not in listed
    assert json.loads(listed)[0]["client_id"] == issued["client_id"]
    out = tmp_path / "lms"
    invoke("export", "oneroster-csv", "--version", "1.2", "--client", "LMS", "--out", str(out))
    files = read_package_dir(out)
    roles = {r["role"] for r in as_records(files["users.csv"] and files["roles.csv"])}
    assert roles == {"student", "teacher"}
    assert "demographics.csv" not in files
    assert all(r["agentSourcedIds"] == "" for r in as_records(files["users.csv"]))
    invoke("api-clients", "revoke", "--district", "Springfield", "LMS")
    assert json.loads(invoke("api-clients", "list", "--district", "1", "--json"))[0]["revoked"]


def run_main(
    args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """Run the console entry point in-process: exit code and what it printed on stderr."""
    monkeypatch.setattr(sys, "argv", ["rostersync", *args])
    with pytest.raises(SystemExit) as info:
        main()
    return int(info.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("export", "oneroster-csv", "--version", "2.0", "--out", "x.zip"), "--version"),
        (
            (
                "api-clients",
                "create",
                "--district",
                "Springfield",
                "--name",
                "a",
                "--scopes",
                "bogus",
            ),
            "--scopes",
        ),
        (
            (
                "api-clients",
                "create",
                "--district",
                "Springfield",
                "--name",
                "a",
                "--scopes",
                "roster.readonly",
                "--entities",
                "contacts,pets",
            ),
            "pets",
        ),
        (("export", "oneroster-csv", "--district", "Nowhere", "--out", "x.zip"), "Nowhere"),
        (
            (
                "api-clients",
                "create",
                "--district",
                "Springfield",
                "--name",
                "a",
                "--scopes",
                "roster.readonly",
                "--schools",
                "org-s1,org-d1",
            ),
            "org-d1",
        ),
    ],
)
def test_bad_input_is_a_one_line_error(
    published: tuple[Roster, Roster],
    args: tuple[str, ...],
    needle: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, stderr = run_main(args, monkeypatch, capsys)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code != 0
    assert "Traceback" not in stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    assert needle in lines[0]
