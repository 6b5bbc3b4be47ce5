"""Closing replaced and deleted rows in bulk: every batch, awkward IDs, history kept."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import sqlalchemy as sa

from rostersync.model import Roster
from rostersync.store import District, Store

RosterEqual = Callable[[Roster, Roster], None]

#: IDs a database array literal or CSV could mangle: quotes, commas, braces, backslashes, spaces.
_AWKWARD = ['ps-u-"q"', "ps-u-a,b", "ps-u-{x}", "ps-u-back\\slash", "ps-u- space ", "ps-u-NULL"]


def _with_awkward_ids(roster: Roster) -> Roster:
    users = roster["users"]
    head = users.head(len(_AWKWARD)).with_columns(sourcedId=pl.Series(_AWKWARD))
    out = dict(roster)
    out["users"] = pl.concat([head, users.slice(len(_AWKWARD))])
    return out


def _current_counts(store: Store, district_id: int) -> dict[str, int]:
    """How many current rows each sourcedId of roster_users has."""
    sql = sa.text(
        'SELECT "sourcedId", count(*) FROM "roster_users" '
        'WHERE district_id = :d AND valid_to IS NULL GROUP BY "sourcedId"'
    )
    with store.engine.connect() as conn:
        return {str(row[0]): int(row[1]) for row in conn.execute(sql, {"d": district_id})}


def test_closing_many_rows_over_several_batches(
    store: Store, district: District, make_roster: Callable[..., Roster], roster_equal: RosterEqual
) -> None:
    first = _with_awkward_ids(make_roster(n_users=60))
    store.publish(district.id, first)
    users = first["users"]
    # Every other user updated (the awkward ones included), every fifth deleted.
    index = pl.int_range(pl.len())
    second = dict(first)
    second["users"] = users.with_columns(
        username=pl.when(index % 2 == 0).then(pl.lit("changed")).otherwise("username")
    ).filter(index % 5 != 4)
    v2 = store.publish(district.id, second, batch_size=3)
    assert (
        v2.counts["users"].updated
        == users.with_row_index()
        .filter((pl.col("index") % 2 == 0) & (pl.col("index") % 5 != 4))
        .height
    )
    assert v2.counts["users"].deleted == 12

    counts = _current_counts(store, district.id)
    assert set(counts) == set(second["users"]["sourcedId"])
    assert set(counts.values()) == {1}  # no ID is left with two current rows
    roster_equal(store.read_version(district.id), second)
    roster_equal(store.read_version(district.id, 1), first)  # history untouched
