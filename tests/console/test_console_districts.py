"""A district created in the console: an operator names it and lands in its Application Gallery;
a bad or taken name is said next to the field; nobody else may create one."""

from __future__ import annotations

from console_helpers import Console, check_page, login
from playwright.sync_api import Page, expect


def test_operator_creates_a_district_and_lands_in_its_gallery(page: Page, console: Console) -> None:
    login(page, console, "olive")
    page.goto(console.url + "/console/?all")
    check_page(page, "districts", console.backend)
    expect(page.get_by_text("You have no district yet.")).to_be_visible()

    page.get_by_label("District name").fill("   ")
    page.get_by_role("button", name="Create the district").click()
    expect(page.locator("#district-error")).to_be_visible()
    assert console.store.list_districts() == []

    page.get_by_label("District name").fill("Springfield Public Schools")
    page.get_by_role("button", name="Create the district").click()
    page.wait_for_url("**/console/d/springfield-public-schools/wizard")
    [created] = console.store.list_districts()
    assert created.name == "Springfield Public Schools"

    page.goto(console.url + "/console/?all")
    page.get_by_label("District name").fill("Springfield Public Schools")
    page.get_by_role("button", name="Create the district").click()
    expect(page.locator("#district-error")).to_contain_text("already exists")
    assert len(console.store.list_districts()) == 1
    assert ("console:olive", "district.create") in {(a, b) for a, b, _ in console.audit_actions()}


def test_only_operators_create_districts(page: Page, console: Console) -> None:
    north = console.store.create_district("North Valley")
    console.account("dora", "district_admin", (north.id,))
    login(page, console, "dora")
    page.goto(console.url + "/console/?all")
    expect(page.get_by_role("button", name="Create the district")).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    refused = page.request.post(
        console.url + "/console/districts", form={"csrf_token": token, "name": "Rogue"}
    )
    assert refused.status == 403
    assert [d.name for d in console.store.list_districts()] == ["North Valley"]
