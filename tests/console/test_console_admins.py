"""Admin accounts in the console: an operator creates a district admin and grants a district;
bad input is named next to the form; a viewer reads but cannot change; a district admin cannot
reach the installation's pages."""

from __future__ import annotations

from console_helpers import PASSWORD, Console, check_page, login
from playwright.sync_api import Page, expect


def test_operator_creates_and_grants_admins(page: Page, console: Console) -> None:
    north = console.store.create_district("North Valley")
    south = console.store.create_district("South Ridge")
    login(page, console, "olive")
    page.goto(console.url + "/console/admins")
    check_page(page, "admins", console.backend)

    page.get_by_label("Name (an e-mail address works)").fill("nadia@example.org")
    page.get_by_label("First password (12 characters or more)").fill("short")
    page.get_by_role("checkbox", name="North Valley").check()
    page.get_by_role("button", name="Create admin").click()
    expect(page.locator("#admin-error")).to_contain_text("The password is too short")
    assert console.accounts.find("nadia@example.org") is None

    page.get_by_label("Name (an e-mail address works)").fill("nadia@example.org")
    page.get_by_label("First password (12 characters or more)").fill(PASSWORD)
    page.get_by_role("checkbox", name="North Valley").check()
    page.get_by_role("button", name="Create admin").click()
    row = page.get_by_role("row").filter(has_text="nadia@example.org")
    expect(row).to_contain_text("North Valley")
    row.get_by_label("District for nadia@example.org").select_option(south.slug)
    row.get_by_role("button", name="Grant the district to nadia@example.org").click()
    assert console.accounts.get("nadia@example.org").districts == {north.id, south.id}
    row = page.get_by_role("row").filter(has_text="nadia@example.org")
    row.get_by_label("District for nadia@example.org").select_option(north.slug)
    row.get_by_role("button", name="Take the district away from nadia@example.org").click()
    assert console.accounts.get("nadia@example.org").districts == {south.id}
    actions = {(a, b) for a, b, _ in console.audit_actions()}
    assert {
        ("console:olive", "admin.create"),
        ("console:olive", "admin.grant"),
        ("console:olive", "admin.revoke"),
    } <= actions


def test_viewer_reads_but_cannot_change(page: Page, console: Console) -> None:
    north = console.store.create_district("North Valley")
    console.account("vera", "viewer", (north.id,))
    console.account("dora", "district_admin", (north.id,))
    login(page, console, "vera")
    page.goto(f"{console.url}/console/d/{north.slug}/clients")
    expect(page.get_by_role("heading", name="API clients")).to_be_visible()
    expect(page.get_by_role("button", name="Create client")).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    refused = page.request.post(
        f"{console.url}/console/d/{north.slug}/clients",
        form={"csrf_token": token, "name": "Sneaky", "scopes": "roster-core.readonly"},
    )
    assert refused.status == 403
    assert "vera is a viewer: read-only access" in refused.text()
    page.goto(f"{console.url}/console/d/{north.slug}/overrides")
    check_page(page, "overrides viewer", console.backend)

    page.get_by_role("button", name="Sign out").click()
    login(page, console, "dora")
    answer = page.goto(console.url + "/console/admins")
    assert answer is not None
    assert answer.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    check_page(page, "not allowed", console.backend)
