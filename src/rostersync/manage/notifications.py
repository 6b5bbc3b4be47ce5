"""Notifications of a district: who is told about runs (list, set) and *send test*.

The recipients are the ``notifications`` section of the district's configuration; setting them
saves a new configuration version. *Send test* sends one clearly marked test message to every
recipient at once (every email address and every webhook, whatever events it asked for), one
try each, and returns how each delivery went; the deliveries are kept in the delivery log like
a run's, and the action is audited. Webhook secrets are resolved only to sign the message.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import httpx

from rostersync.config import EventKind, NotificationsConfig, resolve_secret
from rostersync.errors import ConfigurationError
from rostersync.manage.configs import ConfigVersionInfo
from rostersync.manage.sections import current_section, replace_section
from rostersync.notify import Delivery, Event, deliver_webhook, send_email
from rostersync.notify.webhook import redact_target
from rostersync.settings import Settings
from rostersync.store import Store
from rostersync.sync.wiring import delivery_log

SECTION = "notifications"
#: The kind a test message carries (in the webhook's ``X-Rostersync-Event`` header and body).
TEST_KIND = "test"


@dataclass(frozen=True)
class TestMessage(Event):
    """A notification that says it is a test, sent by whom."""

    __test__ = False  # not a pytest test class
    sent_by: str = ""

    @property
    def subject(self) -> str:
        return f"[rostersync] {self.district}: test notification"

    def text(self) -> str:
        return (
            f"This is a test notification for {self.district}, sent by {self.sent_by}.\n"
            "Nothing happened to any run: this message only checks that notifications "
            "reach you.\n"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "test": True, "sent_by": self.sent_by}


def get_notifications(store: Store, district: str | int) -> dict[str, Any]:
    """The district's notification recipients and switches (secrets as references only)."""
    return current_section(store, district, SECTION)


def set_notifications(
    store: Store, actor: str, district: str | int, notifications: dict[str, Any]
) -> ConfigVersionInfo:
    """Save the district's notifications section (a new configuration version)."""
    info, _ = replace_section(store, actor, district, SECTION, notifications)
    return info


def send_test(
    store: Store,
    settings: Settings,
    actor: str,
    district: str | int,
    *,
    store_lookup: Callable[[str], str | None] | None = None,
    client: httpx.Client | None = None,
) -> list[Delivery]:
    """Send a test message to every recipient; how each delivery went (never raises for one)."""
    d = store.get_district(district)
    config = NotificationsConfig.model_validate(get_notifications(store, d.id))
    hooks = config.all_webhooks()
    if not config.emails and not hooks:
        raise ConfigurationError(
            f"District {d.name!r} has no notification recipients",
            setting="notifications",
            hint="add email addresses or webhooks to its notifications first",
        )
    message = TestMessage(kind=cast(EventKind, TEST_KIND), district=d.name, sent_by=actor)
    deliveries: list[Delivery] = []
    if config.emails:
        deliveries.append(_email(settings, config.emails, message, d.id))
    own = client is None
    http = client or httpx.Client()
    try:
        for i, hook in enumerate(hooks):
            try:
                secret = (
                    resolve_secret(
                        hook.secret,
                        settings,
                        path=f"notifications.webhooks[{i}].secret",
                        store_lookup=store_lookup,
                    ).get_secret_value()
                    if hook.secret
                    else None
                )
            except ConfigurationError as exc:
                target = redact_target(hook.url)
                deliveries.append(_failed(message, "webhook", target, str(exc), d.id))
                continue
            deliveries += deliver_webhook(
                http,
                hook.url,
                message,
                secret=secret,
                max_attempts=1,
                timeout_seconds=hook.timeout_seconds,
                district_id=d.id,
            )
    finally:
        if own:
            http.close()
    log = delivery_log(store)
    for delivery in deliveries:
        log.record(delivery)
    store.audit(
        actor,
        "notifications.test",
        d.id,
        delivered=sum(x.status == "delivered" for x in deliveries),
        failed=sum(x.status != "delivered" for x in deliveries),
    )
    return deliveries


def _email(settings: Settings, to: list[str], message: TestMessage, district_id: int) -> Delivery:
    target = ", ".join(to)
    try:
        send_email(settings, to, message)
    except ConfigurationError as exc:
        return _failed(message, "email", target, str(exc), district_id)
    except (OSError, smtplib.SMTPException) as exc:
        return _failed(message, "email", target, str(exc).splitlines()[0], district_id)
    return Delivery(TEST_KIND, "email", target, 1, "delivered", district_id=district_id)


def _failed(
    message: TestMessage, channel: str, target: str, error: str, district_id: int
) -> Delivery:
    return Delivery(
        message.kind,
        "webhook" if channel == "webhook" else "email",
        target,
        1,
        "failed",
        error=error,
        district_id=district_id,
    )
