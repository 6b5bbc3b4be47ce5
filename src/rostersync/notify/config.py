"""The ``notifications`` section, declared with the configuration and re-exported here."""

from __future__ import annotations

from rostersync.config import EVENT_KINDS, EventKind, NotificationsConfig, WebhookConfig

__all__ = ["EVENT_KINDS", "EventKind", "NotificationsConfig", "WebhookConfig"]
