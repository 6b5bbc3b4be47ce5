"""The district configuration: one validated file per district, every step of the journey.

Public API: :func:`load_config`, :func:`validate_config`, :func:`parse_config_text`,
:func:`dump_config`, :func:`resolve_secret`, the models, and :data:`TEMPLATE`.
"""

from __future__ import annotations

from rostersync.config._models import (
    Advanced,
    ContactNameRule,
    Delivery,
    DistrictConfig,
    HoldThreshold,
    Notifications,
    SchoolMapping,
    SourceConfig,
    SyncSchedule,
)
from rostersync.config._rules import TEMPLATES, Condition, FilterRule
from rostersync.config._secrets import resolve_secret
from rostersync.config._template import TEMPLATE
from rostersync.config._transforms import MappingRule, Transform
from rostersync.config._validate import (
    dump_config,
    load_config,
    parse_config_text,
    validate_config,
)

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
    "MappingRule",
    "Notifications",
    "SchoolMapping",
    "SourceConfig",
    "SyncSchedule",
    "Transform",
    "dump_config",
    "load_config",
    "parse_config_text",
    "resolve_secret",
    "validate_config",
]
