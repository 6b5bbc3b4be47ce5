"""Canonical model: schemas, conforming tables, and the admin's entity types."""

from __future__ import annotations

import polars as pl
import pytest

from rostersync.model import ENTITIES, ENTITY_TYPES, conform, empty_roster, metadata_json


def test_every_entity_has_common_fields() -> None:
    for entity in ENTITIES.values():
        for name in ("sourcedId", "status", "dateLastModified", "source", "sourceId", "metadata"):
            assert name in entity.schema, f"{entity.name} lacks {name}"


def test_seven_entity_types_map_to_canonical_entities() -> None:
    assert set(ENTITY_TYPES) == {
        "student",
        "contact",
        "teacher",
        "course",
        "class",
        "calendar",
        "admin",
    }
    for t in ENTITY_TYPES.values():
        assert t.entity in ENTITIES


def test_entity_type_mask_selects_roles() -> None:
    users = conform(
        "users",
        pl.DataFrame({"sourcedId": ["s1", "t1", "g1"], "role": ["student", "teacher", "guardian"]}),
    )
    students = users.filter(ENTITY_TYPES["student"].mask())
    assert students["sourcedId"].to_list() == ["s1"]
    assert users.filter(ENTITY_TYPES["contact"].mask())["sourcedId"].to_list() == ["g1"]


def test_conform_orders_and_fills_columns() -> None:
    table = conform("orgs", pl.DataFrame({"name": ["A"], "sourcedId": ["o1"]}))
    assert table.schema == ENTITIES["orgs"].schema
    assert table["type"].to_list() == [None]


def test_conform_rejects_unknown_columns() -> None:
    with pytest.raises(KeyError, match="nickname"):
        conform("users", pl.DataFrame({"nickname": ["x"]}))


def test_metadata_json_is_canonical() -> None:
    assert metadata_json({"b": 1, "a": "x"}) == metadata_json({"a": "x", "b": 1})


def test_empty_roster_has_every_table() -> None:
    roster = empty_roster()
    assert set(roster) == set(ENTITIES)
    assert all(t.height == 0 for t in roster.values())
