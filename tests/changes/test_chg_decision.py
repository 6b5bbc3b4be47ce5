"""`decide` is pure: the same inputs give the same decision, with no store, clock or connector."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

from changes_data import make_roster, with_tweaks

from rostersync.changes.decision import ChangeOptions, decide
from rostersync.changes.overrides import HoldOverride
from rostersync.model import empty_roster

TODAY = date(2026, 10, 5)
NOW = datetime(2026, 10, 5, 9, tzinfo=UTC)
BULK = ChangeOptions(bulk_upload=True)


def test_publish_hold_fail_and_unchanged() -> None:
    day1 = make_roster(100)
    first = decide(empty_roster(), day1, BULK, today=TODAY, now=NOW)
    assert (first.verdict, first.unchanged) == ("publish", False)
    same = decide(day1, day1, BULK, today=TODAY, now=NOW, base_version=1)
    assert (same.verdict, same.unchanged) == ("publish", True)
    mass = decide(day1, with_tweaks(day1, drop=30), BULK, today=TODAY, now=NOW, base_version=1)
    assert mass.verdict == "hold"
    assert mass.reasons == ["users: 30 deletes of 100 records (30.0%) exceeds the limit 10%"]
    grant = HoldOverride(1, 1, TODAY, "rollover", "admin", NOW - timedelta(hours=1))
    allowed = decide(
        day1, with_tweaks(day1, drop=30), BULK, [grant], today=TODAY, now=NOW, base_version=1
    )
    assert allowed.verdict == "publish"
    assert allowed.summary["hold_override"]["reason"] == "rollover"
    broken = decide(day1, day1, BULK, health=["pages 3 of 4"], today=TODAY, now=NOW)
    assert (broken.verdict, broken.reasons) == ("fail", ["the source reported: pages 3 of 4"])


def test_changes_loads_no_store_and_no_http() -> None:
    code = (
        "import sys, rostersync.changes.decision;"
        "print(sorted(m for m in ('sqlalchemy', 'httpx', 'rostersync.store',"
        " 'rostersync.connectors', 'rostersync.sync') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
