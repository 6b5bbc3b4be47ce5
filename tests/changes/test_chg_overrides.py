"""Hold overrides can be shortened and revoked: the latest action wins, every action is audited.

The incident: an admin granted an override to the end of the month, then shortened it to a day;
the CLI printed the shorter date but the longer one stayed in force, and a later run published a
mass deletion with no hold.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from changes_data import make_roster, with_tweaks
from hypothesis import given
from hypothesis import strategies as st

from rostersync.changes.overrides import HoldOverride, override_in_force, override_state
from rostersync.store import Store
from rostersync.sync.approval import ChangeOptions, process_candidate
from rostersync.sync.changesets import (
    NothingToRevoke,
    active_override,
    grant_override,
    list_overrides,
    revoke_override,
)

TODAY = date(2026, 10, 5)
BULK = ChangeOptions(bulk_upload=True)


def _run(store: Store, district: int, roster, today: date):  # type: ignore[no-untyped-def]
    run_id = store.create_run(district, trigger="schedule", source="sis")
    return process_candidate(store, district, run_id, roster, BULK, today=today)


def test_a_shorter_override_replaces_a_longer_one(store: Store) -> None:
    district = store.create_district("Shelbyville").id
    day1 = make_roster(200)
    assert _run(store, district, day1, TODAY).status == "succeeded"

    grant_override(store, district, TODAY + timedelta(days=30), actor="admin", reason="rollover")
    grant_override(store, district, TODAY + timedelta(days=1), actor="admin", reason="shorter")
    # within the shorter override: the mass deletion goes through
    assert _run(store, district, with_tweaks(day1, drop=50), TODAY + timedelta(days=1)).status == (
        "succeeded"
    )
    # after it ended the longer one does NOT come back: a 69 % deletion is held
    late = _run(store, district, with_tweaks(day1, drop=138), TODAY + timedelta(days=2))
    assert late.status == "held"
    assert late.summary["over_threshold_allowed"] is False
    assert any("deletes" in r for r in late.reasons)
    assert store.read_version(district)["users"].height == 150


def test_revoke_ends_the_override_and_everything_is_audited(store: Store) -> None:
    district = store.create_district("Ogdenville").id
    day1 = make_roster(100)
    _run(store, district, day1, TODAY)
    grant = grant_override(store, district, TODAY + timedelta(days=10), actor="alice", reason="x")
    assert active_override(store, district, today=TODAY) == grant
    ended = revoke_override(store, district, actor="bob", reason="rollover done", today=TODAY)
    assert (ended.id, ended.revoked_by, ended.revoke_reason) == (grant.id, "bob", "rollover done")
    assert active_override(store, district, today=TODAY) is None
    assert _run(store, district, with_tweaks(day1, drop=40), TODAY).status == "held"

    with pytest.raises(NothingToRevoke, match="nothing to revoke"):
        revoke_override(store, district, actor="bob", reason="again", today=TODAY)
    with pytest.raises(NothingToRevoke, match="already revoked"):
        revoke_override(store, district, actor="bob", reason="x", today=TODAY, override_id=grant.id)

    [stored] = list_overrides(store, district)
    assert (stored.created_by, stored.reason, stored.until) == ("alice", "x", grant.until)
    assert (stored.revoked_by, stored.revoke_reason) == ("bob", "rollover done")
    actions = [(a.actor, a.action, a.detail) for a in store.list_audit(district)]
    assert actions[:2] == [
        (
            "bob",
            "hold_override_revoked",
            {"override": grant.id, "until": grant.until.isoformat(), "reason": "rollover done"},
        ),
        (
            "alice",
            "hold_override",
            {"override": grant.id, "until": grant.until.isoformat(), "reason": "x"},
        ),
    ]


def test_an_override_applies_from_when_it_is_made(store: Store) -> None:
    district = store.create_district("North Haverbrook").id
    made = datetime(2026, 10, 5, 12, tzinfo=UTC)
    grant_override(store, district, TODAY, actor="a", now=made)
    assert active_override(store, district, today=TODAY, now=made - timedelta(seconds=1)) is None
    assert active_override(store, district, today=TODAY, now=made) is not None


def test_a_grant_typed_with_a_past_date_holds_rather_than_lets_through(store: Store) -> None:
    """An admin's typo (a year too early) in a new grant: the mass deletion is held, not let
    through by the earlier, longer grant, and the list says why (ended, superseded)."""
    district = store.create_district("Ogdenville").id
    day1 = make_roster(200)
    assert _run(store, district, day1, TODAY).status == "succeeded"
    made = datetime(2026, 10, 5, 8, tzinfo=UTC)
    first = grant_override(
        store, district, TODAY + timedelta(days=30), actor="admin", reason="rollover", now=made
    )
    typo = grant_override(
        store,
        district,
        TODAY.replace(year=TODAY.year - 1),
        actor="admin",
        reason="rollover (typo)",
        now=made + timedelta(minutes=5),
    )
    run = _run(store, district, with_tweaks(day1, drop=138), TODAY)
    assert run.status == "held"
    assert run.summary["over_threshold_allowed"] is False
    assert active_override(store, district, today=TODAY, now=made + timedelta(hours=1)) is None
    later = made + timedelta(hours=1)
    grants = [first, typo]
    assert override_state(typo, grants, later, TODAY) == "ended"
    assert override_state(first, grants, later, TODAY) == "superseded"


T0 = datetime(2026, 10, 1, tzinfo=UTC)
actions = st.lists(
    st.tuples(st.sampled_from(["grant", "revoke"]), st.integers(0, 20)), min_size=1, max_size=12
)


@given(actions, st.integers(0, 25))
def test_the_latest_action_wins(steps: list[tuple[str, int]], day: int) -> None:
    """Whatever grants and revocations came before, only the last action decides."""
    grants: list[HoldOverride] = []
    for i, (kind, n) in enumerate(steps):
        at = T0 + timedelta(minutes=i)
        if kind == "grant":
            grants.append(HoldOverride(i, 1, TODAY + timedelta(days=n), None, "a", at))
        elif grants:
            last = grants[-1]
            grants[-1] = HoldOverride(**{**last.__dict__, "revoked_at": at, "revoked_by": "b"})
    now = T0 + timedelta(days=1)
    today = TODAY + timedelta(days=day)
    found = override_in_force(grants, now, today)
    last_kind = steps[-1][0] if grants else "revoke"
    if not grants or grants[-1].revoked_at is not None:
        assert found is None
    else:
        assert last_kind == "grant" or grants[-1].revoked_at is None
        expected = grants[-1] if today <= grants[-1].until else None
        assert found == expected
    states = [override_state(g, grants, now, today) for g in grants]
    assert states.count("active") == (1 if found is not None else 0)
