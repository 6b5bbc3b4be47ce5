"""Notifications in the console: recipients saved as a new configuration version (a bad address
named next to the field), and *send test* reaching a real webhook receiver, with the result of
each delivery on the page."""

from __future__ import annotations

import json

import pytest
from console_helpers import Console, check_page, login
from playwright.sync_api import Page, expect

from support.configs import powerschool_config
from support.webhooks import Receiver


def test_recipients_and_send_test(
    page: Page, console: Console, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    district = console.store.create_district("Cedar Falls")
    empty = console.store.create_district("Birch Hollow")
    body = powerschool_config(
        "http://127.0.0.1:9", monkeypatch, district="Cedar Falls", webhook_url=receiver.url
    )
    console.store.save_config_version(district.id, body, created_by="cli:root")
    base = f"{console.url}/console/d/{district.slug}/notifications"
    login(page, console, "olive")

    page.goto(f"{console.url}/console/d/{empty.slug}/notifications")
    expect(page.get_by_text("This district has no configuration yet")).to_be_visible()

    page.goto(base)
    expect(page.get_by_text("127.0.0.1")).to_be_visible()
    check_page(page, "notifications", console.backend)
    page.get_by_label("Email addresses (one a line)").fill("it@cedar.example\nnot-an-address")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#n-emails-error")).to_contain_text("not an email address: not-an-address")
    assert console.store.get_config_version(district.id)[0] == 1

    page.get_by_label("Email addresses (one a line)").fill("it@cedar.example")
    page.get_by_label("when a sync fails").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved as a new configuration version.")).to_be_visible()
    version, saved = console.store.get_config_version(district.id)
    assert version == 2
    assert saved["notifications"]["emails"] == ["it@cedar.example"]
    assert saved["notifications"]["on_failure"] is False
    assert saved["notifications"]["webhook_url"] == receiver.url

    page.get_by_role("button", name="Send a test message").click()
    expect(page.get_by_role("heading", name="Test message sent")).to_be_visible()
    webhook = page.get_by_role("row").filter(has_text="webhook")
    expect(webhook).to_contain_text("delivered")
    # No SMTP server is set up here: the email delivery fails and says why.
    expect(page.get_by_role("row").filter(has_text="email")).to_contain_text("failed")
    check_page(page, "notifications test sent", console.backend)
    assert len(receiver.requests) == 1
    sent = json.loads(receiver.requests[0][1])
    assert sent["test"] is True
    assert sent["sent_by"] == "console:olive"
    actions = {(a, b) for a, b, _ in console.audit_actions()}
    assert ("console:olive", "notifications.test") in actions
