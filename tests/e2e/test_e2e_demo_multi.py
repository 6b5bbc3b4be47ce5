"""`rostersync demo --multi-source`: PowerSchool + a directory (slapd) + a OneRoster CSV package,
merged on the SIS number with master fields; the report says which source won each attribute."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from rostersync.cli.demo_multi import BIND_SECRET, MULTI_CONFIG, MULTI_DISTRICT
from rostersync.cli.demo_sources import active_students, directory_entries
from rostersync.config import load_config
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import generate_district
from rostersync.store import open_store

SLAPD = shutil.which("slapd", path=os.pathsep.join((os.environ.get("PATH", ""), "/usr/sbin")))


@pytest.mark.skipif(
    SLAPD is None, reason="needs OpenLDAP's slapd: apt-get install slapd ldap-utils (.ci/run does)"
)
def test_multi_source_demo_merges_three_sources_and_reports_the_winners() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rostersync",
            "demo",
            "--multi-source",
            "--once",
            "-q",
            "--size",
            "tiny",
            "--seed",
            "4",
            "--port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "published roster version 1" in proc.stdout
    assert "Which source won each attribute" in proc.stdout
    assert "username directory" in proc.stdout

    data_dir = Path(os.environ["ROSTERSYNC_DATA_DIR"])
    config = load_config(data_dir / MULTI_CONFIG)
    assert [s.app for s in config.sources] == ["powerschool", "ldap", "oneroster_csv"]
    bind = config.sources[1].delivery
    assert bind is not None
    assert bind.client_secret == f"store:{BIND_SECRET}"

    district = generate_district("tiny", seed=4)
    students = active_students(district)
    accounts = {
        attrs["employeeID"]: (attrs["sAMAccountName"], attrs["mail"])
        for dn, _, attrs in directory_entries(district)
        if "employeeID" in attrs and "ou=Students" in dn
    }
    assert 0 < len(accounts) < students.height  # some students have no account yet

    store = open_store(load_settings())
    try:
        roster = store.read_version(store.get_district(MULTI_DISTRICT).id)
    finally:
        store.dispose()
    users = roster["users"]
    published = users.filter(pl.col("role") == "student")
    # every student once, under the SIS's ID: the directory's and the package's records merged
    assert sorted(published["identifier"].to_list()) == sorted(
        str(n) for n in students["student_number"]
    )
    assert published["sourcedId"].str.starts_with("ps-student-").all()
    assert not users["sourcedId"].str.starts_with("ad-").any()
    assert not users["sourcedId"].str.starts_with("msg-").any()
    for row in published.iter_rows(named=True):
        account = accounts.get(row["identifier"])
        if account is not None:  # master fields: the directory's login and mail
            assert (row["username"], row["email"]) == account
        else:
            assert not str(row["email"] or "").endswith("@students.demo.k12")
        assert str(row["sms"]).startswith("(206) 555-")  # only the messaging system has it

    won = pl.read_csv(data_dir / "reports" / "run-1" / "users.csv", infer_schema=False).filter(
        pl.col("action") == "won"
    )
    by = {(r["sourcedId"], r["reason"]): r for r in won.iter_rows(named=True)}
    for row in published.iter_rows(named=True):
        sid = row["sourcedId"]
        assert by[(sid, "attribute sms")]["source"] == "messaging"
        assert by[(sid, "attribute givenName")]["source"] == "sis"
        if row["identifier"] in accounts:
            assert by[(sid, "attribute username")]["source"] == "directory"
        phone = by.get((sid, "attribute phone"))
        if phone is not None and phone["source"] == "sis":
            assert phone["detail"] == "fallback: source messaging has no value"
            assert row["phone"] != ""
            assert not str(row["phone"]).startswith("(206) 555-")
    fallbacks = won.filter(pl.col("detail").str.starts_with("fallback"))
    assert fallbacks.height > 0
    teachers = users.filter(pl.col("role") == "teacher")
    from_directory = won.filter(
        pl.col("sourcedId").is_in(teachers["sourcedId"].implode())
        & (pl.col("reason") == "attribute email")
    )
    assert set(from_directory["source"]) == {"directory"}
    assert from_directory.height > 0


#: The console script, on a machine where ``shutil.which`` finds no slapd (the machine's edge).
WITHOUT_SLAPD = """
import shutil, sys
shutil.which = lambda *args, **kwargs: None
from rostersync.cli import main
sys.argv = ["rostersync", "demo", "--multi-source", "--once", "--port", "0"]
main()
"""


def test_multi_source_demo_without_slapd_names_the_package() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_SLAPD],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "apt-get install slapd ldap-utils" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Generating" not in proc.stdout  # refused before anything starts
