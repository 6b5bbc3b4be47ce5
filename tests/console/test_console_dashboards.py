"""The dashboards in a real browser over data made through the real path (simulator →
connector → pipeline → held change set): review and approve a held sync, reject another with a
reason, read a run's report and download it, compare versions and roll back, create and revoke
an override, issue an app's API client and use it, read the audit log — every page scanned by
axe-core and screenshotted."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from console_helpers import Console, check_page, login
from playwright.sync_api import Page, expect

from rostersync import manage
from rostersync.manage.version_diff import version_diff
from rostersync.simulators.powerschool import (
    RunningSimulator,
    SimulatorConfig,
    generate_district,
    run_simulator,
)
from rostersync.sync.run import run_sync
from support.configs import powerschool_config

DISTRICT = "Maple Grove Unified"


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with run_simulator(generate_district("tiny", seed=11), SimulatorConfig()) as running:
        yield running


def _sync(console: Console, district_id: int, sim: RunningSimulator, day: int) -> int:
    """One sync of the simulator's ``day`` (through the real connector and pipeline)."""
    sim.set_day(day)
    # In a thread of its own: Playwright's sync API keeps an event loop on this one.
    with ThreadPoolExecutor(1) as pool:
        outcome = pool.submit(
            run_sync, console.store, district_id, settings=console.settings
        ).result()
    assert outcome.status == "held", outcome
    return outcome.run_id


def test_review_approve_reject_rollback_override_client_audit(
    page: Page, console: Console, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    district = console.store.create_district(DISTRICT)
    body = powerschool_config(sim.url, monkeypatch, district=DISTRICT, preview=True)
    console.store.save_config_version(district.id, body, created_by="cli:root")
    console.account("dana", "district_admin", (district.id,))
    first = _sync(console, district.id, sim, 0)
    base = f"{console.url}/console/d/{district.slug}"

    login(page, console, "dana")
    page.goto(base + "/")
    held = page.get_by_role("article").filter(has_text="Held for approval")
    held.get_by_role("link", name=f"Run {first}").click()
    expect(page.get_by_role("heading", name=f"Changes of run {first}")).to_be_visible()
    expect(
        page.get_by_text("Every sync waits for approval").or_(page.locator("article ul li")).first
    ).to_be_visible()
    page.get_by_role("link", name="users added").first.click()
    expect(page.get_by_role("heading", name="users: added")).to_be_visible()
    first_id = page.locator("details summary").first.inner_text()
    check_page(page, "change set", console.backend)
    # Paging swaps the diffs in place (HTMX): the page is not reloaded, its URL follows.
    page.evaluate("window.stillHere = true")
    page.get_by_role("link", name="Next page").click()
    expect(page.get_by_text("26–50 shown")).to_be_visible()
    assert page.evaluate("window.stillHere === true")
    assert "offset=25" in page.url
    page.get_by_role("link", name="Previous page").click()
    expect(page.get_by_text("1–25 shown")).to_be_visible()
    # Search finds the record by its sourcedId; the diff shows its values after the change.
    page.get_by_label("Search by sourcedId").fill(first_id)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 record, 1–1 shown.")).to_be_visible()
    expect(page.locator("details table td").first).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Version 1 is published.")).to_be_visible()
    check_page(page, "versions", console.backend)

    # The next day's sync: rejected, and the reason is required.
    second = _sync(console, district.id, sim, 1)
    page.goto(f"{base}/runs/{second}/changes")
    page.get_by_role("button", name="Reject").click()  # the browser asks for the reason first
    assert page.evaluate("document.getElementById('reject-reason').validity.valueMissing")
    answer = page.request.post(
        f"{base}/runs/{second}/changes/reject",
        form={"csrf_token": _csrf(page), "reason": "  "},
    )
    assert answer.status == 422
    assert "Give the reason for rejecting" in answer.text()
    page.get_by_label("Reason for rejecting").fill("the SIS import was half done")
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("heading", name=f"Run {second}: rejected")).to_be_visible()
    check_page(page, "run", console.backend)

    # A third day, approved: two versions to compare and roll back between.
    third = _sync(console, district.id, sim, 2)
    page.goto(f"{base}/runs/{third}/changes")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Version 2 is published.")).to_be_visible()
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("heading", name="From version 1 to 2")).to_be_visible()
    check_page(page, "versions diff", console.backend)
    page.get_by_role("link", name="Roll back to version 1").click()
    expect(page.get_by_role("heading", name="Roll back to version 1?")).to_be_visible()
    check_page(page, "rollback", console.backend)
    page.get_by_label("I want to publish version 1's roster again").check()
    page.get_by_role("button", name="Roll back").click()
    expect(page.get_by_text("Version 3 is published.")).to_be_visible()
    assert [v.version for v in console.store.list_versions(district.id)] == [3, 2, 1]
    # The console's diff (changed rows only) agrees with the store's diff of whole versions.
    for a, b in itertools.product((1, 2, 3), repeat=2):
        whole = manage.diff_versions(console.store, district.id, a, b)
        quick = version_diff(console.store, district.id, a, b, listed=10**9)
        assert {
            name: {k: sorted(getattr(e, k).to_list()) for k in ("added", "updated", "deleted")}
            for name, e in whole.items()
            if not e.is_empty
        } == {name: e.first for name, e in quick.items()}, (a, b)

    # Run history: filters, and the two charts over the runs.
    page.goto(base + "/runs")
    expect(page.get_by_role("img", name="Records per entity")).to_be_visible()
    expect(page.get_by_role("img", name="Run duration (seconds)")).to_be_visible()
    page.get_by_label("Status").select_option("rejected")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("1 run.")).to_be_visible()
    check_page(page, "runs", console.backend)
    runs_json = page.request.get(base + "/runs?format=json").json()
    assert [r["id"] for r in runs_json["runs"]] == [third, second, first]
    assert len(runs_json["charts"]["records"]["users"]) == 3

    # The overview: published version, last run, source health, nothing held any more.
    page.goto(base + "/")
    expect(page.get_by_text("Version 3 of 3")).to_be_visible()
    expect(page.get_by_text(f"No problem in run {third}.")).to_be_visible()
    expect(page.get_by_text("No sync schedule.")).to_be_visible()
    check_page(page, "overview with runs", console.backend)

    # A run's report: the listed records, paged, and the CSV download of one entity.
    page.goto(f"{base}/runs/{first}")
    report = page.request.get(f"{base}/runs/{first}?format=json").json()
    listed = report["report_entities"]
    assert listed, report
    download = page.request.get(f"{base}/runs/{first}/report/{listed[0]}.csv")
    assert download.status == 200
    rows = list(csv.DictReader(io.StringIO(download.text())))
    assert len(rows) == report["report_summary"][listed[0]]["reported"] + sum(
        report["report_summary"][listed[0]][a] for a in ("skipped", "filtered", "merged", "removed")
    )
    assert page.request.get(f"{base}/runs/{first}/report/..%2Fsummary.csv").status == 404

    # Overrides: created, then revoked with a reason.
    page.goto(base + "/overrides")
    until = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()
    page.get_by_label("Allow until (inclusive)").fill(until)
    page.get_by_label("Reason", exact=True).fill("rollover week")
    page.get_by_role("button", name="Create override").click()
    expect(
        page.get_by_role("cell", name="in force").or_(page.get_by_role("button", name="Revoke"))
    ).to_be_visible()
    check_page(page, "overrides", console.backend)
    page.get_by_label("Reason for revoking").fill("rollover done")
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("revoked by console:dana: rollover done")).to_be_visible()

    # An app's API client: the secret is shown once, and OneRoster accepts it.
    page.goto(base + "/clients")
    page.get_by_label("App name").fill("Reading Coach")
    page.get_by_role("checkbox", name="demographics — ").check()
    page.get_by_role("button", name="Create client").click()
    client_id = page.locator("#issued-id").inner_text()
    secret = page.locator("#issued-secret").inner_text()
    check_page(page, "clients", console.backend)
    with httpx.Client(base_url=console.url, timeout=30) as http:
        token = http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )
        assert token.status_code == 200, token.text
    page.goto(base + "/clients")
    assert secret not in page.content()
    expect(page.get_by_role("cell", name="demographics")).to_be_visible()

    # The audit log names the admin for every change above.
    page.goto(base + "/audit")
    check_page(page, "audit", console.backend)
    exported = page.request.get(base + "/audit.csv?limit=1000")
    actions = {(r["actor"], r["action"]) for r in csv.DictReader(io.StringIO(exported.text()))}
    for done in (
        "approve_run",
        "reject_run",
        "roster.rollback",
        "api_client.create",
    ):
        assert ("console:dana", done) in actions, done
    assert secret not in exported.text()


def _csrf(page: Page) -> str:
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    return token
