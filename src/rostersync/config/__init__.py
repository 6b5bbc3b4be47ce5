"""The district configuration: one validated file per district, every step of the journey.

Public API: :func:`load_config`, :func:`validate_config`, :func:`parse_config_text`,
:func:`config_document` and :func:`dump_config`, :func:`resolve_secret`, the models (the
``hold_threshold``, ``sync_schedule`` and ``notifications`` sections included: ``changes``,
``schedule`` and ``notify`` import them from here), :mod:`rostersync.config.fields` (the attributes
of each entity type) and :data:`TEMPLATE`. This package imports no other rostersync package but
``errors``, ``model`` and ``settings``.
"""

from __future__ import annotations

from rostersync.config._models import (
    Advanced,
    ContactNameRule,
    Delivery,
    DistrictConfig,
    Relinking,
    SchoolMapping,
    SourceConfig,
)
from rostersync.config._rules import GRADE_ORDER, TEMPLATES, Condition, FilterRule
from rostersync.config._secrets import resolve_secret
from rostersync.config._sections import (
    EVENT_KINDS,
    KIND_NAMES,
    WEEKDAYS,
    ConfigDeprecationWarning,
    EventKind,
    HoldThreshold,
    Kind,
    Limits,
    NotificationsConfig,
    RolloverWindow,
    SyncSchedule,
    WebhookConfig,
    Weekday,
)
from rostersync.config._template import TEMPLATE
from rostersync.config._transforms import MappingRule, Transform, format_parts
from rostersync.config._validate import (
    app_problems,
    config_document,
    dump_config,
    installed_apps,
    load_config,
    parse_config_text,
    pydantic_problems,
    schedule_problems_as_written,
    validate_config,
)

__all__ = [
    "EVENT_KINDS",
    "GRADE_ORDER",
    "KIND_NAMES",
    "TEMPLATE",
    "TEMPLATES",
    "WEEKDAYS",
    "Advanced",
    "Condition",
    "ConfigDeprecationWarning",
    "ContactNameRule",
    "Delivery",
    "DistrictConfig",
    "EventKind",
    "FilterRule",
    "HoldThreshold",
    "Kind",
    "Limits",
    "MappingRule",
    "NotificationsConfig",
    "Relinking",
    "RolloverWindow",
    "SchoolMapping",
    "SourceConfig",
    "SyncSchedule",
    "Transform",
    "WebhookConfig",
    "Weekday",
    "app_problems",
    "config_document",
    "dump_config",
    "format_parts",
    "installed_apps",
    "load_config",
    "parse_config_text",
    "pydantic_problems",
    "resolve_secret",
    "schedule_problems_as_written",
    "validate_config",
]
