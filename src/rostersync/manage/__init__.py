"""The management plane's service functions: what an admin can do, once, for every front end.

The CLI calls these functions today and the JSON management API will call the same ones: each
takes the store (and, for a change, the actor who makes it), checks its input, records the
change in the audit log, and returns a typed result (a frozen dataclass with ``as_dict()``) or
raises one of the project's errors (:mod:`rostersync.errors`), never a bare exception.
"""

from __future__ import annotations

from rostersync.manage.api_clients import (
    ApiClientSummary,
    create_api_client,
    list_api_clients,
    parse_expiry,
    revoke_api_client,
    show_api_client,
)
from rostersync.manage.configs import (
    ConfigChange,
    ConfigDiff,
    ConfigVersionInfo,
    diff_config_versions,
    get_config_version,
    list_config_versions,
    restore_config_version,
)
from rostersync.manage.districts import (
    DistrictDeleted,
    DistrictSummary,
    create_district,
    delete_district,
    list_districts,
    show_district,
)
from rostersync.manage.matches import (
    entity_table,
    link_records,
    list_matches,
    unlink_records,
)
from rostersync.manage.runs import MAX_LIMIT as MAX_RUNS_LISTED
from rostersync.manage.runs import list_runs, show_run
from rostersync.manage.versions import diff_versions, list_versions, rollback_version

__all__ = [
    "MAX_RUNS_LISTED",
    "ApiClientSummary",
    "ConfigChange",
    "ConfigDiff",
    "ConfigVersionInfo",
    "DistrictDeleted",
    "DistrictSummary",
    "create_api_client",
    "create_district",
    "delete_district",
    "diff_config_versions",
    "diff_versions",
    "entity_table",
    "get_config_version",
    "link_records",
    "list_api_clients",
    "list_config_versions",
    "list_districts",
    "list_matches",
    "list_runs",
    "list_versions",
    "parse_expiry",
    "restore_config_version",
    "revoke_api_client",
    "rollback_version",
    "show_api_client",
    "show_district",
    "show_run",
    "unlink_records",
]
