"""One section of a district's configuration changed on its own (Sync Schedule, Notifications).

The section is put into the newest configuration, the whole configuration is validated (every
problem with its path, e.g. ``sync_schedule.at``) and saved as the district's next version, so
a section change has the same history, diff and restore as any other configuration change.
"""

from __future__ import annotations

import copy
from typing import Any

from rostersync.config import DistrictConfig, config_document, validate_config
from rostersync.errors import ConfigValidationError, Problem
from rostersync.manage.configs import ConfigVersionInfo, get_config_version
from rostersync.store import Store


def current_section(store: Store, district: str | int, key: str) -> dict[str, Any]:
    """The section ``key`` of the newest configuration, every default filled in."""
    info, body = get_config_version(store, district)
    config = validate_config(body, f"configuration version {info.version}")
    section: dict[str, Any] = config_document(config).get(key, {})
    return section


def replace_section(
    store: Store, actor: str, district: str | int, key: str, value: Any
) -> tuple[ConfigVersionInfo, DistrictConfig]:
    """Save the newest configuration with ``key`` replaced by ``value`` as a new version.

    An unchanged section keeps the version (nothing is saved or audited).
    """
    if not isinstance(value, dict):
        raise ConfigValidationError("the request body", [Problem(key, "must be an object")])
    info, body = get_config_version(store, district)
    changed = copy.deepcopy(body)
    changed[key] = value
    config = validate_config(changed, "the request body")
    document = config_document(config)
    if document == config_document(validate_config(body, f"version {info.version}")):
        return info, config
    version = store.save_config_version(info.district_id, document, created_by=actor)
    store.audit(actor, f"config.{key}", info.district_id, version=version, was=info.version)
    saved, _ = get_config_version(store, district, version)
    return saved, config
