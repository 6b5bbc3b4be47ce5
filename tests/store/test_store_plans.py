"""Publishing with a plan: the changes the sync already computed are written as they are,
without reading the base version's hashes or diffing again; a plan that does not fit the
candidate or its base is ignored."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from rostersync.model import ENTITIES, Roster
from rostersync.store import Store, VersionDiff
from rostersync.store.plans import EntityPlan, PublishPlan

RosterEqual = Callable[[Roster, Roster], None]


def _plan(base: int | None, diffs: dict[str, VersionDiff]) -> PublishPlan:
    return PublishPlan(
        base, {name: EntityPlan(d.added, d.updated, d.deleted) for name, d in diffs.items()}
    )


def _next_day(roster: Roster) -> Roster:
    users = roster["users"]
    changed = users.with_columns(
        pl.when(pl.int_range(pl.len()) % 5 == 0)
        .then(pl.col("givenName") + " renamed")
        .otherwise(pl.col("givenName"))
        .alias("givenName")
    ).slice(3)  # three users gone
    return {**roster, "users": changed}


def test_a_planned_publish_writes_what_its_own_diff_would(
    store: Store, make_roster: Callable[..., Roster], roster_equal: RosterEqual
) -> None:
    first, second = make_roster(n_users=60, seed=4), None
    second = _next_day(first)
    own, planned = store.create_district("Own diff"), store.create_district("Planned")
    for district in (own, planned):
        store.publish(district.id, first)
    by_itself = store.publish(own.id, second)
    diffs = store.diff_versions(own.id, 1, 2)
    assert diffs["users"].updated.len()
    assert diffs["users"].deleted.len()
    with_plan = store.publish(planned.id, second, plan=_plan(1, diffs), expected_base=1)
    assert with_plan.counts == by_itself.counts
    roster_equal(store.read_version(planned.id), second)
    assert {n: d.counts() for n, d in store.diff_versions(planned.id, 1, 2).items()} == {
        n: d.counts() for n, d in diffs.items()
    }


def test_the_plan_is_trusted_not_diffed_again(
    store: Store, make_roster: Callable[..., Roster]
) -> None:
    """Proof that no second diff runs: a plan naming no user change writes none, although
    the candidate's users differ (the caller's diff is the contract)."""
    district = store.create_district("Trusting")
    first = make_roster(n_users=30, seed=5)
    store.publish(district.id, first)
    empty = pl.Series("sourcedId", [], pl.Utf8)
    nothing = {name: VersionDiff(empty, empty, empty) for name in ENTITIES}
    version = store.publish(district.id, _next_day(first), plan=_plan(1, nothing))
    assert version.total_changed == 0


def test_a_plan_that_does_not_fit_is_ignored(
    store: Store, make_roster: Callable[..., Roster], roster_equal: RosterEqual
) -> None:
    district = store.create_district("Careful")
    first = make_roster(n_users=30, seed=6)
    store.publish(district.id, first)
    second = _next_day(first)
    empty = pl.Series("sourcedId", [], pl.Utf8)
    nothing = {name: VersionDiff(empty, empty, empty) for name in ENTITIES}
    ghost = {**nothing, "users": VersionDiff(pl.Series("sourcedId", ["ghost"]), empty, empty)}
    kept = {**nothing, "users": VersionDiff(empty, empty, first["users"]["sourcedId"].tail(1))}
    for misfit in (_plan(1, ghost), _plan(1, kept), _plan(None, nothing)):
        version = store.publish(district.id, second, plan=misfit)
        roster_equal(store.read_version(district.id), second)
        assert version.counts["users"].changed == (8 if version.version == 2 else 0), (
            misfit
        )  # the store's own diff: 5 renamed + 3 gone, then nothing
