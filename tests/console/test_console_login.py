"""Signing in to the console in a real browser: the login form, the district switcher, the
overview and the account page — each page screenshotted and scanned by axe-core."""

from __future__ import annotations

import html

import pyotp
from console_helpers import PASSWORD, Console, check_page, login
from playwright.sync_api import Page, expect


def test_sign_in_switch_district_and_sign_out(page: Page, console: Console) -> None:
    north = console.store.create_district("North Valley")
    console.store.create_district("South Ridge")
    page.goto(console.url + "/")
    expect(page).to_have_url(console.url + "/console/login?next=%2Fconsole%2F")
    check_page(page, "login", console.backend)

    login(page, console, "olive")
    expect(page.get_by_role("heading", name="Districts")).to_be_visible()
    check_page(page, "districts", console.backend)

    page.get_by_label("District", exact=True).select_option(north.slug)
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="North Valley")).to_be_visible()
    expect(page.get_by_text("Nothing published yet.")).to_be_visible()
    check_page(page, "overview", console.backend)

    # The switcher's choice is the session's: the home page goes back to it.
    page.goto(console.url + "/console/")
    expect(page.get_by_role("heading", name="North Valley")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(console.url + "/console/account")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    actions = [(a, b) for a, b, _ in console.audit_actions()]
    assert ("olive", "admin.login") in actions
    assert ("console:olive", "admin.logout") in actions


def test_wrong_password_is_refused_and_audited(page: Page, console: Console) -> None:
    login(page, console, "olive", "not the password at all")
    expect(page.get_by_role("alert")).to_contain_text("Wrong name, password or code")
    expect(page.get_by_label("Name")).to_have_value("olive")
    check_page(page, "login-error", console.backend)
    assert ("olive", "admin.login_failed") in [(a, b) for a, b, _ in console.audit_actions()]


def test_account_page_token_and_totp(page: Page, console: Console) -> None:
    login(page, console, "olive")
    page.goto(console.url + "/console/account")
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    check_page(page, "account", console.backend)

    # A personal token, shown once, that the management API accepts.
    page.get_by_label("What it is for").fill("reports script")
    page.get_by_role("button", name="Create a token").click()
    token = page.locator("#new-token").inner_text()
    assert token.startswith("rst_")
    with console.http() as http:
        me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["name"] == "olive"
    page.goto(console.url + "/console/account")
    assert token not in page.content()
    page.get_by_role("button", name="Revoke token reports script").click()
    expect(page.get_by_text("The token was revoked.")).to_be_visible()

    # Bad token forms (past the browser's own checks): the problem is named, nothing is made.
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    for days, name, problem in (
        ("999", "x", "Days: 999 is outside 1–366"),
        ("ten", "x", "Days: 'ten' is not a whole number of days"),
        ("30", " ", "Name: give the token a name"),
    ):
        answer = page.request.post(
            console.url + "/console/account/tokens",
            form={"csrf_token": csrf or "", "name": name, "days": days},
        )
        assert answer.status == 422
        assert problem in html.unescape(answer.text())
    listed = page.request.get(console.url + "/console/account?format=json").json()["tokens"]
    assert [t["name"] for t in listed] == ["reports script"]

    # TOTP: set up here; from then on the code is required to sign in.
    page.get_by_label("Current password").nth(1).fill(PASSWORD)
    page.get_by_role("button", name="Set up a second factor").click()
    uri = page.locator("#totp-uri").inner_text()
    seed = pyotp.parse_uri(uri).secret
    check_page(page, "account-totp-setup", console.backend)
    # Nothing changes until a code from the new key is confirmed: a wrong one is refused...
    page.get_by_label("Code from the authenticator app").fill("000000")
    page.get_by_role("button", name="Switch the second factor on").click()
    expect(page.locator("#totp-error")).to_contain_text("does not match the new key")
    assert not console.accounts.get("olive").totp
    # ...and so is a key this session was not shown (the form's seal is for the shown key).
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    seal = page.locator("input[name=seal]").get_attribute("value") or ""
    forged = pyotp.random_base32()
    answer = page.request.post(
        console.url + "/console/account/totp/confirm",
        form={"csrf_token": csrf, "seed": forged, "seal": seal, "code": pyotp.TOTP(forged).now()},
    )
    assert answer.status == 422
    assert "was not shown in this session" in html.unescape(answer.text())
    assert not console.accounts.get("olive").totp
    page.get_by_label("Code from the authenticator app").fill(pyotp.TOTP(seed).now())
    page.get_by_role("button", name="Switch the second factor on").click()
    expect(page.locator("#totp-done")).to_be_visible()
    assert console.accounts.get("olive").totp
    page.get_by_role("button", name="Sign out").click()
    login(page, console, "olive")
    expect(page.get_by_role("alert")).to_contain_text("Wrong name, password or code")
    login(page, console, "olive", code=pyotp.TOTP(seed).now())
    expect(page.get_by_role("heading", name="Districts")).to_be_visible()
