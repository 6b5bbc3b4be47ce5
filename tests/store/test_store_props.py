"""Laws of the versioned roster, checked with Hypothesis on every store backend."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rostersync.model import ENTITIES, Roster, conform, empty_roster
from rostersync.store import Store

_counter = itertools.count()

# Text a database can hold: no lone surrogates, no NUL (PostgreSQL text refuses it).
_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=12
)
_user = st.fixed_dictionaries(
    {
        "givenName": st.one_of(st.none(), _text),
        "enabledUser": st.one_of(st.none(), st.booleans()),
        "userIds": st.one_of(st.none(), st.lists(_text, max_size=3)),
        "birthDate": st.one_of(st.none(), st.dates(date(1950, 1, 1), date(2030, 12, 31))),
        "dateLastModified": st.one_of(
            st.none(),
            st.datetimes(datetime(2000, 1, 1), datetime(2035, 1, 1)).map(
                lambda d: d.replace(tzinfo=UTC)
            ),
        ),
    }
)
# A roster: users keyed by a small ID space, so two rosters overlap, differ and delete.
_rosters = st.dictionaries(st.integers(0, 25), _user, max_size=20)


def _roster(users: dict[int, dict[str, object]]) -> Roster:
    rows = [
        {"sourcedId": f"u{key}", "status": "active", "role": "student", **fields}
        for key, fields in sorted(users.items())
    ]
    roster = empty_roster()
    if rows:
        frame = pl.DataFrame(
            rows,
            schema_overrides={
                "userIds": pl.List(pl.Utf8),
                "givenName": pl.Utf8,
                "enabledUser": pl.Boolean,
                "birthDate": pl.Date,
                "dateLastModified": pl.Datetime("us", "UTC"),
            },
        )
        roster["users"] = conform("users", frame).sort("sourcedId")
    return roster


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(a=_rosters, b=_rosters)
def test_publish_a_then_b_reads_back_b_and_diffs_are_exact(
    store: Store, a: dict[int, dict[str, object]], b: dict[int, dict[str, object]]
) -> None:
    district = store.create_district(f"Property district {next(_counter)}")
    ra, rb = _roster(a), _roster(b)
    v1 = store.publish(district.id, ra)
    v2 = store.publish(district.id, rb)
    content = ENTITIES["users"].content_names
    now, then = store.read_version(district.id)["users"], rb["users"]
    assert now.select(content).equals(then.select(content))
    old = store.read_version(district.id, v1.version)["users"]
    assert old.select(content).equals(ra["users"].select(content))
    # A record's stamp is the publish that last changed its content, whatever the source sent.
    assert set(old["dateLastModified"]) <= {v1.created_at}
    hashed = [t.select("sourcedId", t.select(content).hash_rows().alias("h")) for t in (now, old)]
    kept = set(hashed[0].join(hashed[1], on=["sourcedId", "h"], how="semi")["sourcedId"])
    for sid, stamp in now.select("sourcedId", "dateLastModified").rows():
        assert stamp == (v1.created_at if sid in kept else v2.created_at), sid

    diff = store.diff_versions(district.id, v1.version, v2.version)["users"]
    ids_a = {f"u{k}" for k in a}
    ids_b = {f"u{k}" for k in b}
    assert set(diff.added) == ids_b - ids_a
    assert set(diff.deleted) == ids_a - ids_b

    def content(fields: dict[str, object]) -> dict[str, object]:
        return {k: v for k, v in fields.items() if k != "dateLastModified"}

    # A source's own dateLastModified is not content: the store stamps its own.
    same = {f"u{k}" for k in set(a) & set(b) if content(a[k]) == content(b[k])}
    assert set(diff.updated) == (ids_a & ids_b) - same
    assert v2.counts["users"].changed == diff.added.len() + diff.updated.len() + diff.deleted.len()

    # Diffing a version with itself, or with a republish of the same content, is empty.
    assert all(d.is_empty for d in store.diff_versions(district.id, 2, 2).values())
    v3 = store.publish(district.id, store.read_version(district.id))
    assert v3.total_changed == 0
