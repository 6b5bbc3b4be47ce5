"""The store's commands: a fresh data directory end to end, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from rostersync.cli import app
from rostersync.model import Roster
from rostersync.settings import load_settings
from rostersync.store import open_store


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rostersync", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
        timeout=120,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0]


def test_command_before_upgrade_says_run_db_upgrade(tmp_path: Path) -> None:
    result = run_cli("districts", "list")
    assert_one_line_error(result, "rostersync db upgrade")
    assert result.returncode == 4
    assert not (tmp_path / "var" / "rostersync.db").exists()


def test_unreachable_database_url() -> None:
    result = run_cli(
        "districts", "list", ROSTERSYNC_DATABASE_URL="postgresql+psycopg://x@127.0.0.1:1/db"
    )
    assert_one_line_error(result, "ROSTERSYNC_DATABASE_URL", "127.0.0.1")


def test_malformed_database_url() -> None:
    result = run_cli("db", "upgrade", ROSTERSYNC_DATABASE_URL="no-such-scheme:/x")
    assert_one_line_error(result, "ROSTERSYNC_DATABASE_URL")
    assert result.returncode == 2


def test_read_only_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "locked"
    data_dir.mkdir()
    data_dir.chmod(0o555)
    if os.access(data_dir, os.W_OK):  # running as root: permissions are not enforced
        data_dir = Path("/sys/rostersync-test/var")  # sysfs refuses new directories
    try:
        result = run_cli("db", "upgrade", ROSTERSYNC_DATA_DIR=str(data_dir))
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert_one_line_error(result, "ROSTERSYNC_DATA_DIR", str(data_dir))


def test_fresh_data_dir_end_to_end(
    make_roster: Callable[..., Roster], roster_equal: Callable[[Roster, Roster], None]
) -> None:
    runner = CliRunner()

    def ok(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result.output

    assert "newest" in ok("db", "upgrade")
    assert "up to date" in ok("db", "current")
    assert "springfield-public-schools" in ok("districts", "create", "Springfield Public Schools")
    listed = json.loads(ok("districts", "list", "--json"))
    assert [d["slug"] for d in listed] == ["springfield-public-schools"]
    none_yet = ok("versions", "list", "--district", "springfield-public-schools", "--json")
    assert json.loads(none_yet) == []

    store = open_store(load_settings())
    district = store.get_district("springfield-public-schools")
    first = make_roster()
    store.publish(district.id, first)
    second = dict(first)
    second["users"] = first["users"].head(30)
    store.publish(district.id, second)

    versions = json.loads(ok("versions", "list", "-d", "Springfield Public Schools", "--json"))
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["counts"]["users"] == {"total": 30, "added": 0, "updated": 0, "deleted": 10}
    shown = json.loads(ok("versions", "show", "-d", str(district.id), "1", "--json"))
    assert shown["counts"]["users"]["total"] == 40
    diff = json.loads(ok("versions", "diff", "-d", str(district.id), "1", "2", "--json"))
    assert len(diff["users"]["deleted"]) == 10
    assert diff["users"]["added"] == []
    assert "users" in ok("versions", "diff", "-d", str(district.id), "1", "2")
    assert "rolled back to version 1: published as version 3" in ok(
        "versions", "rollback", "-d", "1", "1"
    )
    roster_equal(store.read_version(district.id), first)
    assert [e.action for e in store.list_audit(district.id)] == [
        "roster.rollback",
        "district.create",
    ]
    store.dispose()


def test_db_upgrade_is_quiet_unless_debug_is_asked_for(tmp_path: Path) -> None:
    """A fresh upgrade prints its one summary line; Alembic's per-migration lines only at DEBUG."""
    quiet = run_cli("db", "upgrade", ROSTERSYNC_DATA_DIR=str(tmp_path / "quiet"))
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    assert "newest" in quiet.stdout
    assert "Running upgrade" not in quiet.stdout
    assert "Context impl" not in quiet.stdout
    debug = run_cli(
        "db", "upgrade", ROSTERSYNC_DATA_DIR=str(tmp_path / "debug"), ROSTERSYNC_LOG_LEVEL="DEBUG"
    )
    assert debug.returncode == 0, debug.stderr
    assert "Running upgrade" in debug.stderr
