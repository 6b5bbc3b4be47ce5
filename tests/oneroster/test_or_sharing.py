"""Sharing rules: the SQL conditions (REST provider) and the Polars filters (CSV export) select
the same rows for every entity; grants are validated as the admin types them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from or_sample_roster import small_roster

from rostersync.errors import ConfigurationError
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.model import ENTITIES
from rostersync.settings import load_settings
from rostersync.store import Store, open_store
from rostersync.store.schema import roster_tables

RULES = {
    "everything": SharingRules.everything(),
    "north": SharingRules.build(schools=["org-s1"]),
    "south": SharingRules.build(schools=["org-s2"]),
    "no-contacts": SharingRules.build(
        entities=["orgs", "classes", "courses", "academicSessions", "enrollments", "students"]
    ),
    "teachers-north": SharingRules.build(
        schools=["org-s1"], entities=["orgs", "classes", "enrollments", "teachers"]
    ),
    "contacts-only": SharingRules.build(entities=["contacts", "students", "demographics"]),
    "nothing-granted-school": SharingRules.build(schools=["org-zz"]),
}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, int]]:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("sharing") / "var")
    store = open_store(settings, upgrade=True)
    district = store.create_district("Springfield")
    store.publish(district.id, small_roster())
    yield store, district.id
    store.dispose()


@pytest.mark.parametrize("rules_name", list(RULES))
@pytest.mark.parametrize("entity", [e for e in ENTITIES if e != "userContacts"])
def test_sql_and_polars_agree(published: tuple[Store, int], rules_name: str, entity: str) -> None:
    store, district_id = published
    rules = RULES[rules_name]
    table = roster_tables[entity]
    with store.engine.connect() as conn:
        sql_ids = set(
            conn.scalars(
                sa.select(table.c.sourcedId).where(
                    table.c.district_id == district_id,
                    table.c.valid_to.is_(None),
                    rules.sql_condition(entity, roster_tables, district_id),
                )
            )
        )
    polars_ids = set(rules.apply(small_roster())[entity]["sourcedId"].to_list())
    assert sql_ids == polars_ids


def test_school_rule_keeps_district_level_records() -> None:
    shared = SharingRules.build(schools=["org-s2"]).apply(small_roster())
    assert set(shared["orgs"]["sourcedId"]) == {"org-d1", "org-s2"}
    assert set(shared["academicSessions"]["sourcedId"]) == {"as-y26", "as-t2"}
    assert set(shared["users"]["sourcedId"]) == {"u-s3", "u-t1", "u-t2"}


def test_withheld_fields_become_null_but_required_ones_stay() -> None:
    rules = SharingRules.build(fields=["users.email"])
    users = rules.apply(small_roster())["users"]
    assert users["email"].null_count() < users.height
    assert users["identifier"].null_count() == users.height
    assert users["givenName"].null_count() == 0  # required by the model: always shared


def test_rules_round_trip_through_json() -> None:
    rules = SharingRules.build(schools=["a"], entities=["students"], fields=["users.email"])
    assert SharingRules.from_json(rules.to_json()) == rules
    assert SharingRules.from_json(None) == SharingRules.everything()


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"entities": ["students", "pets"]}, "pets"),
        ({"fields": ["users"]}, "users"),
        ({"fields": ["users.shoeSize"]}, "shoeSize"),
        ({"fields": ["gradebook.score"]}, "gradebook"),
    ],
)
def test_bad_grants_are_configuration_errors(kwargs: dict[str, list[str]], needle: str) -> None:
    with pytest.raises(ConfigurationError, match=needle):
        SharingRules.build(**kwargs)  # type: ignore[arg-type]
