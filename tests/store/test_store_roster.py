"""The versioned roster: publish/read-back, diff, restore, failed publishes, bad input."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest

from rostersync.errors import FatalError, SourceDataError, VersionNotFound
from rostersync.model import ENTITIES, Roster, empty_roster
from rostersync.store import District, Store
from rostersync.store._hashing import hash_tag, row_hashes

RosterEqual = Callable[[Roster, Roster], None]


def _change(roster: Roster) -> Roster:
    """Rename one user, delete one, add one; drop an enrollment."""
    users = roster["users"]
    renamed = users.with_columns(
        pl.when(pl.col("sourcedId") == "ps-u-00003")
        .then(pl.lit("Renamed"))
        .otherwise(pl.col("givenName"))
        .alias("givenName")
    ).filter(pl.col("sourcedId") != "ps-u-00004")
    added = users.head(1).with_columns(sourcedId=pl.lit("ps-u-99999"))
    out = dict(roster)
    out["users"] = pl.concat([renamed, added])
    out["enrollments"] = roster["enrollments"].filter(pl.col("sourcedId") != "ps-e-00000")
    return out


def test_publish_then_read_back_equal(
    store: Store, district: District, make_roster: Callable[..., Roster], roster_equal: RosterEqual
) -> None:
    roster = make_roster()
    version = store.publish(district.id, roster, run_id=None, note="first")
    assert version.version == 1
    assert version.status == "published"
    assert version.hash_tag == hash_tag()
    assert version.counts["users"].as_dict() == {
        "total": 40,
        "added": 40,
        "updated": 0,
        "deleted": 0,
    }
    assert store.current_version(district.id) == 1
    roster_equal(store.read_version(district.id), roster)
    roster_equal(store.read_version(district.id, 1), roster)
    for name, table in store.read_version(district.id).items():
        assert table.schema == ENTITIES[name].schema


def test_republishing_the_same_roster_changes_nothing(
    store: Store, district: District, make_roster: Callable[..., Roster]
) -> None:
    store.publish(district.id, make_roster())
    again = store.publish(district.id, make_roster())
    assert again.version == 2
    assert again.total_changed == 0
    assert all(d.is_empty for d in store.diff_versions(district.id, 1, 2).values())


def test_diff_of_two_versions(
    store: Store, district: District, make_roster: Callable[..., Roster], roster_equal: RosterEqual
) -> None:
    first = make_roster()
    second = _change(first)
    store.publish(district.id, first)
    v2 = store.publish(district.id, second)
    assert v2.counts["users"].as_dict() == {"total": 40, "added": 1, "updated": 1, "deleted": 1}
    assert v2.counts["enrollments"].deleted == 1
    diff = store.diff_versions(district.id, 1, 2)
    assert diff["users"].added.to_list() == ["ps-u-99999"]
    assert diff["users"].updated.to_list() == ["ps-u-00003"]
    assert diff["users"].deleted.to_list() == ["ps-u-00004"]
    assert diff["enrollments"].deleted.to_list() == ["ps-e-00000"]
    assert diff["orgs"].is_empty
    backwards = store.diff_versions(district.id, 2, 1)
    assert backwards["users"].added.to_list() == ["ps-u-00004"]
    assert backwards["users"].deleted.to_list() == ["ps-u-99999"]
    # Both versions stay readable as they were.
    roster_equal(store.read_version(district.id, 1), first)
    roster_equal(store.read_version(district.id, 2), second)


def test_restore_publishes_old_content_as_a_new_version(
    store: Store, district: District, make_roster: Callable[..., Roster], roster_equal: RosterEqual
) -> None:
    first = make_roster()
    store.publish(district.id, first)
    store.publish(district.id, _change(first))
    restored = store.restore(district.id, 1)
    assert restored.version == 3
    assert restored.status == "restored"
    assert restored.counts["users"].changed == 3
    roster_equal(store.read_version(district.id), first)
    assert all(d.is_empty for d in store.diff_versions(district.id, 1, 3).values())
    assert [v.version for v in store.list_versions(district.id)] == [3, 2, 1]


@pytest.mark.parametrize("fail_after", [1, 3, 7])
def test_failed_publish_leaves_previous_version_intact(
    store: Store,
    district: District,
    make_roster: Callable[..., Roster],
    roster_equal: RosterEqual,
    fail_after: int,
) -> None:
    first = make_roster()
    store.publish(district.id, first)
    before = store.read_current_hashes(district.id, "users")
    bigger = _change(make_roster(n_users=60, seed=2))
    with pytest.raises(FatalError, match="interrupted"):
        store.publish(district.id, bigger, batch_size=4, _fail_after_batches=fail_after)
    assert store.current_version(district.id) == 1
    assert [v.version for v in store.list_versions(district.id)] == [1]
    roster_equal(store.read_version(district.id), first)
    assert (
        store.read_current_hashes(district.id, "users")
        .sort("sourcedId")
        .equals(before.sort("sourcedId"))
    )
    # And the next publish works normally and sees version 1 as its base.
    v2 = store.publish(district.id, bigger, batch_size=4)
    assert v2.version == 2
    roster_equal(store.read_version(district.id), bigger)


def test_duplicate_sourced_ids_are_refused(
    store: Store, district: District, make_roster: Callable[..., Roster]
) -> None:
    roster = make_roster()
    users = roster["users"]
    roster["users"] = pl.concat([users, users.filter(pl.col("sourcedId") == "ps-u-00007")])
    with pytest.raises(SourceDataError, match=r"users: 1 sourcedId .*'ps-u-00007'"):
        store.publish(district.id, roster)
    # Two IDs repeated, one of them three times: counted once each, the first one named.
    twice = pl.concat(
        [users, users.filter(pl.col("sourcedId").is_in(["ps-u-00003", "ps-u-00031"]))]
    )
    roster["users"] = pl.concat([twice, users.filter(pl.col("sourcedId") == "ps-u-00031")])
    with pytest.raises(SourceDataError, match=r"users: 2 sourcedId .*'ps-u-00003'"):
        store.publish(district.id, roster)
    assert store.current_version(district.id) is None


def test_missing_sourced_id_is_refused(store: Store, district: District) -> None:
    roster = empty_roster()
    roster["orgs"] = pl.DataFrame(
        {"sourcedId": [None], "status": ["active"], "name": ["X"], "type": ["school"]},
        schema_overrides={"sourcedId": pl.Utf8},
    )
    with pytest.raises(SourceDataError, match="orgs: 1 record"):
        store.publish(district.id, roster)


def test_unknown_table_is_refused(store: Store, district: District) -> None:
    with pytest.raises(FatalError, match="unknown roster tables"):
        store.publish(district.id, {"pupils": pl.DataFrame({"sourcedId": ["1"]})})


def test_missing_versions_are_clear_errors(store: Store, district: District) -> None:
    with pytest.raises(VersionNotFound, match="no published roster"):
        store.read_version(district.id)
    store.publish(district.id, empty_roster())
    with pytest.raises(VersionNotFound, match="version 5 does not exist"):
        store.diff_versions(district.id, 1, 5)


def test_districts_never_see_each_other(
    store: Store, make_roster: Callable[..., Roster], roster_equal: RosterEqual
) -> None:
    a = store.create_district("District A")
    b = store.create_district("District B")
    store.publish(a.id, make_roster(seed=1))
    store.publish(b.id, make_roster(n_users=10, seed=2))
    roster_equal(store.read_version(a.id), make_roster(seed=1))
    roster_equal(store.read_version(b.id), make_roster(n_users=10, seed=2))


def test_hashes_from_another_polars_release_are_recomputed(
    store: Store, district: District, make_roster: Callable[..., Roster]
) -> None:
    """Simulate stored hashes written by another Polars release: scrambled values, other tag.
    The publish re-tags the rows in several batches, whatever characters the IDs hold."""
    roster = make_roster()
    odd = ['ps-u-"q"', "ps-u-a,b", "ps-u-{x}", "ps-u-back\\slash", "ps-u- space ", "NULL"]
    users = roster["users"]
    roster["users"] = users.with_columns(
        users["sourcedId"].scatter(list(range(len(odd))), odd).alias("sourcedId")
    ).sort("sourcedId")
    store.publish(district.id, roster)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE roster_versions SET hash_tag = 'polars-0.0.0-seed1'")
        conn.exec_driver_sql("UPDATE roster_users SET row_hash = row_hash + 1")
    # The slow path re-hashes the current rows: nothing is reported as changed.
    current = store.read_current_hashes(district.id, "users").sort("sourcedId")
    expected = roster["users"].select("sourcedId", row_hashes("users", roster["users"]))
    assert current.equals(expected.sort("sourcedId"))
    again = store.publish(district.id, roster, batch_size=7)
    assert again.total_changed == 0
    # The publish rewrote the stale hashes, so the fast path agrees from now on.
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM roster_users WHERE valid_to IS NULL"
        ).scalar()
    assert stored == 40
    assert (
        store.read_current_hashes(district.id, "users")
        .sort("sourcedId")
        .equals(expected.sort("sourcedId"))
    )
    assert all(d.is_empty for d in store.diff_versions(district.id, 1, 2).values())


def test_hashes_and_rows_read_in_chunks_match_what_was_published(
    store: Store,
    make_roster: Callable[..., Roster],
    roster_equal: RosterEqual,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The diff's hash read (aggregates over ranges of heap pages on PostgreSQL, of rowids on
    SQLite) and SQLite's row read (JSON arrays over ranges of rowids) return every row of the
    district's version once, whatever characters the values hold, across many ranges and
    beside another district's rows."""
    from rostersync.store import _bulk

    monkeypatch.setattr(_bulk, "_HASH_CHUNK_PAGES", 1)
    monkeypatch.setattr(_bulk, "_HASH_CHUNK_ROWS", 7)
    monkeypatch.setattr(_bulk, "_ROWS_CHUNK_ROWS", 7)
    store.publish(store.create_district("Shelbyville").id, make_roster(n_users=50, seed=9))
    district = store.create_district("Springfield")
    roster = make_roster(n_users=300, seed=5)
    odd = ["a,b", 'q"uote', "new\nline", "tab\there", "Zoë-李", "back\\slash", " ", "[]", "\\u0041"]
    if store.engine.dialect.name == "sqlite":
        odd.append("nul\x00byte")  # PostgreSQL text cannot hold it
    users = roster["users"]
    roster["users"] = users.with_columns(
        users["sourcedId"].scatter(list(range(len(odd))), odd).alias("sourcedId"),
        users["familyName"].scatter(list(range(len(odd))), odd[::-1]).alias("familyName"),
        pl.Series(
            "userIds",
            [[v, "x"] for v in odd] + users["userIds"].to_list()[len(odd) :],
            dtype=pl.List(pl.Utf8),
        ),
    )
    store.publish(district.id, roster)
    changed = dict(roster)
    changed["users"] = roster["users"].with_columns(
        pl.when(pl.col("sourcedId").is_in(odd[:3]))
        .then(pl.lit("X"))
        .otherwise("givenName")
        .alias("givenName")
    )
    version = store.publish(district.id, changed)
    assert version.counts["users"].as_dict() == {
        "total": 300,
        "added": 0,
        "updated": 3,
        "deleted": 0,
    }
    stored = store.read_current_hashes(district.id, "users").sort("sourcedId")
    expected = changed["users"].select("sourcedId", row_hashes("users", changed["users"]))
    assert stored.equals(expected.sort("sourcedId"))
    only_orgs = empty_roster()
    only_orgs["orgs"] = roster["orgs"]
    ogdenville = store.create_district("Ogdenville")
    store.publish(ogdenville.id, only_orgs)
    assert store.read_current_hashes(ogdenville.id, "users").is_empty()
    roster_equal(store.read_version(district.id, 1), roster)
    roster_equal(store.read_version(district.id), changed)
    roster_equal(store.read_version(ogdenville.id), only_orgs)
