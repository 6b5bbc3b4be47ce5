"""The district configuration: one validated file per district, every step of the journey.

Public API: :func:`load_config`, :func:`validate_config`, :func:`parse_config_text`,
:func:`dump_config`, :func:`resolve_secret`, the models, and :data:`TEMPLATE`. The models of
``hold_threshold``, ``sync_schedule`` and ``notifications`` are defined by change approval, the
scheduler and notifications, and re-exported here.
"""

from __future__ import annotations

from rostersync.changes.threshold import HoldThreshold, Limits, RolloverWindow
from rostersync.config._models import (
    Advanced,
    ContactNameRule,
    Delivery,
    DistrictConfig,
    SchoolMapping,
    SourceConfig,
)
from rostersync.config._rules import TEMPLATES, Condition, FilterRule
from rostersync.config._secrets import resolve_secret
from rostersync.config._template import TEMPLATE
from rostersync.config._transforms import MappingRule, Transform
from rostersync.config._validate import (
    dump_config,
    load_config,
    parse_config_text,
    pydantic_problems,
    schedule_problems_as_written,
    validate_config,
)
from rostersync.notify.config import NotificationsConfig, WebhookConfig
from rostersync.schedule.config import SyncSchedule

__all__ = [
    "TEMPLATE",
    "TEMPLATES",
    "Advanced",
    "Condition",
    "ContactNameRule",
    "Delivery",
    "DistrictConfig",
    "FilterRule",
    "HoldThreshold",
    "Limits",
    "MappingRule",
    "NotificationsConfig",
    "RolloverWindow",
    "SchoolMapping",
    "SourceConfig",
    "SyncSchedule",
    "Transform",
    "WebhookConfig",
    "dump_config",
    "load_config",
    "parse_config_text",
    "pydantic_problems",
    "resolve_secret",
    "schedule_problems_as_written",
    "validate_config",
]
