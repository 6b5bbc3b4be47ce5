"""End to end: a week of simulated days synced incrementally publishes, every day, exactly what a
full-pull sync of the same day publishes (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from incr_helpers import assert_same_roster, serve

from rostersync.config import validate_config
from rostersync.settings import load_settings
from rostersync.simulators.powerschool import generate_district
from rostersync.store import Store
from rostersync.store.baselines import drop_baseline, load_baseline
from rostersync.sync.run import SyncOutcome, sync_config
from rostersync.sync.wiring import decide_for
from support.configs import powerschool_config

TODAY = date(2025, 8, 26)


def _config(url: str, monkeypatch: pytest.MonkeyPatch, district: str, incremental: bool) -> Any:
    body = powerschool_config(
        url, monkeypatch, district=district, connector={"incremental": incremental}
    )
    body["hold_threshold"] = {"delete_percent": None, "update_percent": None}
    return validate_config(body, "test config")


def _sync(store: Store, config: Any) -> SyncOutcome:
    settings = load_settings()
    decide = decide_for(config, settings, today=TODAY, notify=False)
    return sync_config(store, config, settings, decide=decide)


def _published(store: Store, district: str) -> dict[str, pl.DataFrame]:
    d = store.get_district(district)
    roster = store.read_version(d.id)
    # When a record was last published is the publish's own time, not the record's content.
    return {
        name: frame.drop([c for c in frame.columns if c == "dateLastModified"])
        for name, frame in roster.items()
    }


def test_a_week_of_incremental_syncs_publishes_what_full_syncs_publish(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    district = generate_district("tiny", seed=31)
    with serve(district) as running:
        incremental = _config(running.url, monkeypatch, "Incremental ISD", True)
        full = _config(running.url, monkeypatch, "Full Pull ISD", False)
        for day in range(8):
            if day:
                running.set_day(day)
            inc = _sync(store, incremental)
            ref = _sync(store, full)
            assert inc.status == ref.status == "succeeded", (inc.error, ref.error)
            mode = inc.phases["extract"]["incremental"]["sis"]
            assert mode["mode"] == ("full" if day == 0 else "incremental"), mode
            assert "incremental" not in ref.phases["extract"]
            assert_same_roster(
                _published(store, "Incremental ISD"), _published(store, "Full Pull ISD")
            )
        district_id = store.get_district("Incremental ISD").id
        kept = load_baseline(store, district_id, "sis")
        assert kept is not None
        assert int(kept.cursor) == running.district.changes.height
        assert load_baseline(store, store.get_district("Full Pull ISD").id, "sis") is None
        # Without its baseline the next sync is a full pull again, and says why.
        assert drop_baseline(store, district_id, "sis")
        again = _sync(store, incremental)
        assert again.phases["extract"]["incremental"]["sis"]["mode"] == "full"
