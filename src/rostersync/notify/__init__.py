"""Notifications: email over SMTP and signed webhooks when a run publishes, is held or fails.

Public API: :func:`build_notifier` (the one way to build a district's notifier), :class:`Event`,
:class:`Notifier`, :class:`NotificationsConfig`, :class:`WebhookConfig` (declared in
:mod:`rostersync.config`), :func:`sign`, :func:`verify`, :class:`Delivery`.
"""

from rostersync.config import EVENT_KINDS, NotificationsConfig, WebhookConfig
from rostersync.notify.dispatch import Notifier, build_notifier
from rostersync.notify.email import send_email
from rostersync.notify.events import Event
from rostersync.notify.log import Delivery, DeliveryLog
from rostersync.notify.webhook import SIGNATURE_HEADER, deliver_webhook, sign, verify

__all__ = [
    "EVENT_KINDS",
    "SIGNATURE_HEADER",
    "Delivery",
    "DeliveryLog",
    "Event",
    "NotificationsConfig",
    "Notifier",
    "WebhookConfig",
    "build_notifier",
    "deliver_webhook",
    "send_email",
    "sign",
    "verify",
]
