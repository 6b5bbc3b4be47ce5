"""The approval flow end to end on a real store: publish, fail, hold, approve, reject, rollback."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from changes_data import make_roster, with_tweaks

from rostersync.changes.threshold import HoldThreshold
from rostersync.errors import PublishConflict
from rostersync.model import ENTITIES, Roster, conform
from rostersync.notify import NotificationsConfig, Notifier
from rostersync.settings import load_settings
from rostersync.store import Store
from rostersync.sync.approval import (
    ChangeOptions,
    RunNotHeld,
    approve,
    process_candidate,
    reject,
)
from rostersync.sync.changesets import grant_override, load_changes
from rostersync.sync.recovery import recover_interrupted_runs
from rostersync.sync.wiring import delivery_log

TODAY = date(2026, 10, 5)
BULK = ChangeOptions(bulk_upload=True)


def _same(a: Roster, b: Roster) -> None:
    """Equal content (``dateLastModified`` is the store's stamp, not the candidate's)."""
    for name, entity in ENTITIES.items():
        left = conform(name, a[name]).sort("sourcedId").select(entity.content_names)
        right = conform(name, b[name]).sort("sourcedId").select(entity.content_names)
        assert left.equals(right), name


def _run(store: Store, district: int, roster: Roster, options: ChangeOptions = BULK, **kw: object):  # type: ignore[no-untyped-def]
    run_id = store.create_run(district, trigger="manual", source="sis")
    return process_candidate(store, district, run_id, roster, options, today=TODAY, **kw)  # type: ignore[arg-type]


def test_day_one_day_two_outage_and_mass_deletion(store: Store) -> None:
    district = store.create_district("Springfield").id
    day1 = make_roster(300)
    first = _run(store, district, day1)
    assert first.status == "succeeded"
    assert first.version is not None
    assert first.version.version == 1

    day2 = with_tweaks(day1, rename=4, drop=3, add=5, deactivate=2)
    second = _run(store, district, day2)
    assert second.status == "succeeded"
    assert second.version is not None
    assert second.version.version == 2
    assert second.summary["entities"]["users"] == {
        "base": 300,
        "candidate": 302,
        "added": 5,
        "updated": 6,
        "deleted": 3,
        "deactivated": 2,
    }
    _same(store.read_version(district), day2)
    # the stored change set has the field-level detail, and the store's own diff agrees
    stored = load_changes(store, second.run_id)
    assert stored.entities["users"].fields.filter(pl.col("field") == "givenName").height == 4
    vdiff = store.diff_versions(district, 1, 2)["users"]
    assert (vdiff.added.len(), vdiff.updated.len(), vdiff.deleted.len()) == (5, 6, 3)
    run = store.get_run(second.run_id)
    assert run.status == "succeeded"
    assert run.roster_version == 2
    assert {"changes", "diff", "publish"} <= set(run.phases)

    same = _run(store, district, day2)  # nothing changed: no new, empty version
    assert same.status == "succeeded"
    assert same.version is not None
    assert same.version.version == 2
    assert same.summary["unchanged"] is True
    assert store.get_run(same.run_id).roster_version == 2

    outage = {name: ent.empty() for name, ent in ENTITIES.items()}
    failed = _run(store, district, outage)
    assert failed.status == "failed"
    assert "no records at all" in failed.reasons[0]
    assert store.get_run(failed.run_id).status == "failed"
    assert store.current_version(district) == 2

    thirty = with_tweaks(day2, drop=91)  # 30 % of the users
    held = _run(store, district, thirty)
    assert held.status == "held"
    assert held.reasons == ["users: 91 deletes of 302 records (30.13%) exceeds the limit 10%"]
    assert store.current_version(district) == 2
    assert store.get_run(held.run_id).status == "held"

    version = approve(store, held.run_id, actor="admin@example.org")
    assert version.version == 3
    _same(store.read_version(district), thirty)
    assert store.get_run(held.run_id).status == "succeeded"
    assert store.get_run(held.run_id).change_summary["approved_by"] == "admin@example.org"
    with pytest.raises(RunNotHeld, match="is succeeded, not held"):
        approve(store, held.run_id)

    # rollback: version 2's content published again as a new version, byte-identical (but for
    # dateLastModified: what the rollback brings back is stamped with its time)
    restored = store.restore(district, 2)
    assert restored.version == 4
    assert restored.status == "restored"
    for name, entity in ENTITIES.items():
        content = entity.content_names
        assert (
            store.read_version(district, 4)[name].select(content).write_ndjson()
            == store.read_version(district, 2)[name].select(content).write_ndjson()
        )


def test_reject_and_stale_approval(store: Store) -> None:
    district = store.create_district("Shelbyville").id
    day1 = make_roster(100)
    _run(store, district, day1)
    held = _run(store, district, with_tweaks(day1, drop=50))
    assert held.status == "held"
    reject(store, held.run_id, reason="SIS export was truncated", actor="admin")
    run = store.get_run(held.run_id)
    assert run.status == "rejected"
    assert run.error == "rejected: SIS export was truncated"
    assert store.current_version(district) == 1

    old = _run(store, district, with_tweaks(day1, drop=40))
    newer = _run(store, district, with_tweaks(day1, rename=2))
    assert (old.status, newer.status) == ("held", "succeeded")
    with pytest.raises(PublishConflict, match="computed against roster version 1, but version 2"):
        approve(store, old.run_id)
    assert store.current_version(district) == 2


def test_preview_override_and_non_bulk_absence(store: Store) -> None:
    district = store.create_district("Capital City").id
    day1 = make_roster(100)
    preview = ChangeOptions(preview=True)
    first = _run(store, district, day1, preview)
    assert first.status == "held"
    assert first.reasons == ["preview is on: every sync waits for approval"]
    assert approve(store, first.run_id).version == 1

    # outside bulk upload mode, absent records stay: no deletion, nothing held
    dropped = _run(store, district, with_tweaks(day1, drop=60), ChangeOptions())
    assert dropped.status == "succeeded"
    assert store.read_version(district)["users"].height == 100

    grant_override(store, district, TODAY + timedelta(days=3), actor="admin", reason="rollover")
    mass = _run(store, district, with_tweaks(day1, drop=60))
    assert mass.status == "succeeded"
    assert mass.summary["over_threshold_allowed"] is True
    assert store.read_version(district)["users"].height == 40
    opts = ChangeOptions(bulk_upload=True, hold_threshold=HoldThreshold(delete_count=0))
    late = _run(store, district, with_tweaks(day1, drop=61), opts)
    assert late.status == "succeeded"  # the override still runs until TODAY + 3 days


def test_notifications_and_delivery_log(store: Store, receiver) -> None:  # type: ignore[no-untyped-def]
    district = store.create_district("Ogdenville").id
    log = delivery_log(store)
    config = NotificationsConfig(webhook_url=receiver.url)
    notifier = Notifier(load_settings(), config, district_id=district, record=log.record)
    day1 = make_roster(50)
    _run(store, district, day1, notifier=notifier)
    held = _run(store, district, with_tweaks(day1, drop=20), notifier=notifier)
    _run(store, district, {n: e.empty() for n, e in ENTITIES.items()}, notifier=notifier)
    events = [r[0]["X-Rostersync-Event"] for r in receiver.requests]
    assert events == ["published", "held", "failed"]
    assert [(d.event, d.status) for d in log.list()] == [
        ("published", "delivered"),
        ("held", "delivered"),
        ("failed", "delivered"),
    ]
    assert log.list(run_id=held.run_id)[0].event == "held"


def test_interrupted_publish_is_marked_failed(store: Store) -> None:
    district = store.create_district("North Haverbrook").id
    run_id = store.create_run(district, trigger="manual")
    store.update_run(run_id, status="publishing")
    assert recover_interrupted_runs(store, district, stale_after=timedelta(0)) == {run_id: "failed"}
    assert "interrupted during publish" in (store.get_run(run_id).error or "")
