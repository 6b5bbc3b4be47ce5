"""Paging a held change set over the API: every change once, fields of the page's updates only,
checked against the change set the run stored (read whole by the sync package's loader)."""

from __future__ import annotations

import pytest
from api_helpers import Api

from rostersync.config import validate_config
from rostersync.simulators.powerschool import SimulatorConfig, generate_district, run_simulator
from rostersync.sync import sync_config
from rostersync.sync.changesets import load_changes
from support.configs import powerschool_config


def test_held_changes_are_paged_without_gaps_or_repeats(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    with run_simulator(generate_district("tiny", seed=11), SimulatorConfig()) as sim:
        body = powerschool_config(sim.url, monkeypatch, district="Paging", attribute_mapping=None)
        first = sync_config(api.store, validate_config(body, "test"), api.settings)
        assert first.status == "succeeded", first
        sim.district.advance_to(sim.district.day + 20)
        body["sources"][0]["advanced"]["preview"] = True
        held = sync_config(api.store, validate_config(body, "test"), api.settings)
    assert held.status == "held", held
    d = api.store.get_district("Paging")
    admin = api.client(api.account("ada", "district_admin", [d.id]))
    base = f"/districts/{d.slug}/changes/{held.run_id}"
    whole = load_changes(api.store, held.run_id)

    shown = admin.get(base).json()
    assert shown["total"] == whole.total > 0
    for name, ch in whole.entities.items():
        counts = shown["entities"][name]
        assert (counts["added"], counts["updated"], counts["deleted"]) == (
            ch.added.height,
            ch.updated.height,
            ch.deleted.height,
        )
    entity = max(whole.entities, key=lambda n: whole.entities[n].updated.height)
    expected = whole.entities[entity]
    assert expected.updated.height > 3, "the simulated days changed too little"
    seen: list[str] = []
    offset = 0
    while True:
        page = admin.get(
            f"{base}/{entity}", params={"kind": "updated", "offset": offset, "limit": 3}
        )
        assert page.status_code == 200, page.text
        got = page.json()
        assert got["total"] == expected.updated.height
        if not got["sourced_ids"]:
            break
        assert len(got["sourced_ids"]) <= 3
        fields = expected.fields.filter(expected.fields["sourcedId"].is_in(got["sourced_ids"]))
        assert {
            (f["sourcedId"], f["field"], f["before"], f["after"]) for f in got["fields"]
        } == set(fields.iter_rows())
        assert {f["sourcedId"] for f in got["fields"]} <= set(got["sourced_ids"])
        seen += got["sourced_ids"]
        offset += 3
    assert sorted(seen) == sorted(expected.updated["sourcedId"].to_list())
    assert len(seen) == len(set(seen))
    empty = admin.get(f"{base}/{entity}", params={"kind": "deleted", "offset": 10**6}).json()
    assert empty["sourced_ids"] == []
    assert admin.get(f"{base}/{entity}", params={"limit": 1001}).status_code == 422
    assert admin.get(f"{base}/{entity}", params={"kind": "moved"}).status_code == 422
    assert admin.get(f"{base}/nonsense").status_code == 404
