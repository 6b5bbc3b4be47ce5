"""A ``--fields`` restriction never strips what the OneRoster spec requires: over a real server
(1.1 and 1.2, collections and single objects) and in the CSV export's Polars rules."""

from __future__ import annotations

import pytest
from or_provider import V11, V12, Provider
from or_sample_roster import small_roster

from rostersync.export.oneroster.catalog import RESOURCES
from rostersync.export.oneroster.sharing import SPEC_REQUIRED, SharingRules


@pytest.mark.parametrize(("base", "version"), [(V12, "1.2"), (V11, "1.1")])
@pytest.mark.parametrize("path", ["/users", "/users/u-s1", "/students", "/teachers/u-t1"])
def test_a_field_restricted_app_still_gets_every_required_field(
    provider: Provider, base: str, version: str, path: str
) -> None:
    resp = provider.get(base + path, client="lms")  # users restricted to names and grades
    assert resp.status_code == 200, resp.text
    body = resp.json()
    users = body["users"] if "users" in body else [body["user"]]
    required = {f.name for f in RESOURCES[version]["users"].fields if f.required}  # type: ignore[index]
    assert users
    for user in users:
        assert required <= set(user), required - set(user)
        assert "email" not in user  # what was not granted stays withheld
        assert "identifier" not in user
    if version == "1.2":
        assert {"roles", "primaryOrg"} <= set(users[0])
        assert users[0]["roles"][0]["org"]["sourcedId"]
    else:
        assert {"role", "orgs", "username"} <= set(users[0])


def test_required_fields_cannot_be_asked_away_either(provider: Provider) -> None:
    """``fields=`` in a request is the consumer's own choice and still narrows freely."""
    resp = provider.get(f"{V12}/users/u-s1", client="lms", fields="givenName")
    assert resp.status_code == 200
    assert set(resp.json()["user"]) == {"givenName"}


def test_the_csv_rules_keep_required_columns() -> None:
    rules = SharingRules.build(
        fields=["users.givenName", "courses.title", "classes.title"], sensitive=["all"]
    )
    shared = rules.apply(small_roster())
    for entity in ("users", "courses", "classes"):
        table = shared[entity]
        for column in SPEC_REQUIRED[entity]:
            source = small_roster()[entity][column]
            assert table[column].null_count() == source.null_count(), (entity, column)
    assert shared["users"]["email"].null_count() == shared["users"].height
    assert {"role", "orgSourcedIds", "primaryOrgSourcedId"} <= SPEC_REQUIRED["users"]
