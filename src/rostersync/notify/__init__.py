"""Notifications: email over SMTP and signed webhooks when a run publishes, is held or fails.

Public API: :class:`Event`, :class:`Notifier`, :class:`NotificationsConfig`,
:class:`WebhookConfig`, :func:`sign`, :func:`verify`, :class:`Delivery`.
"""

from rostersync.notify.config import EVENT_KINDS, NotificationsConfig, WebhookConfig
from rostersync.notify.dispatch import Notifier
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
    "deliver_webhook",
    "send_email",
    "sign",
    "verify",
]
