"""`build_notifier`: the one way to build a district's notifier, from a typed or stored section."""

from __future__ import annotations

import pytest

from rostersync.config import NotificationsConfig
from rostersync.errors import ConfigValidationError
from rostersync.notify import Event, build_notifier
from rostersync.settings import load_settings
from rostersync.store import Store
from rostersync.sync.wiring import delivery_log
from support.webhooks import Receiver

FAILED = Event("failed", "Springfield", run_id=3, reasons=["extract: the SIS is down"])


def test_a_stored_section_notifies_and_logs_each_delivery(
    sqlite_store: Store, receiver: Receiver
) -> None:
    district = sqlite_store.create_district("Springfield")
    stored = {"webhook_url": receiver.url, "on_failure": True}  # as a configuration version
    notifier = build_notifier(
        load_settings(), stored, district_id=district.id, delivery_log=delivery_log(sqlite_store)
    )
    (delivery,) = notifier.notify(FAILED)
    assert delivery.status == "delivered"
    assert len(receiver.requests) == 1
    (logged,) = delivery_log(sqlite_store).list(run_id=3)
    assert (logged.event, logged.status, logged.district_id) == ("failed", "delivered", district.id)
    assert logged.at.tzinfo is not None


def test_a_typed_section_or_none_needs_no_database(receiver: Receiver) -> None:
    typed = NotificationsConfig(webhook_url=receiver.url, on_failure=False)
    assert build_notifier(load_settings(), typed).notify(FAILED) == []
    assert build_notifier(load_settings(), None).notify(FAILED) == []
    assert receiver.requests == []


def test_a_broken_stored_section_is_a_configuration_error_with_paths() -> None:
    with pytest.raises(ConfigValidationError) as info:
        build_notifier(load_settings(), {"webhooks": [{"url": "ftp://x"}], "emails": ["nobody"]})
    paths = {p.path for p in info.value.problems}
    assert paths == {"notifications.webhooks[0].url", "notifications.emails"}
