"""Exported packages read back: every record and every field the CSV binding carries survives
(1.1 and 1.2, zip and folder), and a delta package carries its changes and tombstones."""

from __future__ import annotations

import polars as pl
import pytest
from csv_helpers import PackageFactory, extract, failure

from rostersync.errors import SourceDataError
from rostersync.model import ENTITIES, Roster

#: Canonical columns the CSV binding does not carry (or carries differently) per version.
NOT_IN_CSV = {"metadata", "source", "sourceId", "status", "dateLastModified"}
PER_ENTITY = {
    "academicSessions": {"orgSourcedId"},
    "enrollments": {"teacherRole"},
    # 1.2 writes the role per org in roles.csv; administrators go as siteAdministrator
    "users": set(),
}


def _normal(table: pl.DataFrame, drop: set[str]) -> pl.DataFrame:
    keep = [c for c in table.columns if c not in drop]
    lists = [c for c in keep if isinstance(table.schema[c], pl.List)]
    out = table.select(keep).with_columns(pl.col(c).list.sort() for c in lists)
    return out.sort("sourcedId")


@pytest.mark.parametrize(("version", "zipped"), [("1.1", True), ("1.2", False), ("1.2", True)])
def test_a_package_reads_back_as_the_roster_it_was_written_from(
    make_package: PackageFactory, sis_roster: Roster, version: str, zipped: bool
) -> None:
    result = extract(make_package(version, zip=zipped))
    assert result.stats["oneroster_version"] == version
    for name in ENTITIES:
        if name == "userContacts":
            assert result.roster[name].height == 0  # not part of the CSV binding
            continue
        drop = NOT_IN_CSV | PER_ENTITY.get(name, set())
        if name == "users" and version == "1.1":
            drop |= {"primaryOrgSourcedId"}  # 1.1 has no primary org: the first one is used
        expected = _normal(sis_roster[name].filter(pl.col("status") == "active"), drop)
        got = _normal(result.roster[name], drop)
        assert got.height == expected.height, name
        assert got.equals(expected), (name, got.head(3), expected.head(3))
        assert result.roster[name].schema == ENTITIES[name].schema
        assert (result.roster[name]["source"] == "csv").all()


def test_administrators_keep_their_1p2_role_in_metadata(
    make_package: PackageFactory, sis_roster: Roster
) -> None:
    users = extract(make_package("1.2")).roster["users"]
    admins = users.filter(pl.col("role") == "administrator")
    assert admins.height == sis_roster["users"].filter(pl.col("role") == "administrator").height
    assert admins.height > 0
    assert admins["metadata"].str.contains('"oneroster.role":"siteAdministrator"').all()


def _delta_roster(sis_roster: Roster, *, role: bool) -> tuple[Roster, str, str]:
    """The roster minus one student, another student renamed (and made a teacher)."""
    users = sis_roster["users"].filter(pl.col("role") == "student")
    gone, renamed = users["sourcedId"][0], users["sourcedId"][1]
    current = dict(sis_roster)
    is_renamed = pl.col("sourcedId") == renamed
    current["users"] = (
        sis_roster["users"]
        .filter(pl.col("sourcedId") != gone)
        .with_columns(
            pl.when(is_renamed).then(pl.lit("Renamed")).otherwise("familyName").alias("familyName"),
            pl.when(is_renamed & role).then(pl.lit("teacher")).otherwise("role").alias("role"),
        )
    )
    return current, gone, renamed


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_a_delta_package_carries_changes_and_tombstones(
    make_package: PackageFactory, sis_roster: Roster, version: str
) -> None:
    current, gone, renamed = _delta_roster(sis_roster, role=True)
    result = extract(make_package(version, "delta", previous=sis_roster, roster=current))
    delta = result.roster["users"]
    assert set(delta["sourcedId"]) == {gone, renamed}
    row = delta.filter(pl.col("sourcedId") == renamed).row(0, named=True)
    assert (row["familyName"], row["role"], row["status"]) == ("Renamed", "teacher", "active")
    tomb = delta.filter(pl.col("sourcedId") == gone).row(0, named=True)
    assert (tomb["status"], tomb["role"]) == ("tobedeleted", "student")
    assert delta["dateLastModified"].null_count() == 0


def test_a_1p2_delta_user_without_its_roles_is_refused_by_row(
    make_package: PackageFactory, sis_roster: Roster
) -> None:
    current, _, _ = _delta_roster(sis_roster, role=False)
    error = failure(make_package("1.2", "delta", previous=sis_roster, roster=current))
    assert "users.csv row " in error.message
    assert ", column sourcedId: no role for the user in roles.csv" in error.message


def test_a_delta_package_is_refused_in_bulk_upload_mode(
    make_package: PackageFactory, sis_roster: Roster
) -> None:
    from csv_helpers import connector

    current, _, _ = _delta_roster(sis_roster, role=True)
    package = make_package("1.2", "delta", previous=sis_roster, roster=current)
    conn = connector(package)
    conn.bulk_upload = True
    with pytest.raises(SourceDataError) as caught:
        conn.read(package)
    assert "manifest.csv: delta files (" in caught.value.message
    assert "for a source in bulk_upload mode" in caught.value.message
