"""Source connectors and their registry (the ``rostersync.connectors`` entry-point group).

Built-in connectors are registered exactly like a third-party one would be: a package declares
``[project.entry-points."rostersync.connectors"] <app> = "module:Class"`` and
:func:`get_connector_class` finds it by the ``app`` name used in a district configuration.
"""

from __future__ import annotations

import inspect
from importlib.metadata import entry_points
from typing import cast

from rostersync.connectors.base import (
    REQUIRED_MEMBERS,
    Baseline,
    Capabilities,
    ConnectionReport,
    Connector,
    Extraction,
    ExtractResult,
    ProgressCallback,
    ProgressEvent,
    RequestStats,
    SchoolInfo,
)
from rostersync.connectors.health import (
    HealthLedger,
    HealthProblem,
    PartialExtractError,
    SourceHealth,
)
from rostersync.errors import ConfigurationError, SourceHealthError

GROUP = "rostersync.connectors"

__all__ = [
    "GROUP",
    "Baseline",
    "Capabilities",
    "ConnectionReport",
    "Connector",
    "ExtractResult",
    "Extraction",
    "HealthLedger",
    "HealthProblem",
    "PartialExtractError",
    "ProgressCallback",
    "ProgressEvent",
    "RequestStats",
    "SchoolInfo",
    "SourceHealth",
    "SourceHealthError",
    "available_connectors",
    "get_connector_class",
]


def available_connectors() -> list[str]:
    """The ``app`` names of every installed connector, sorted."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def get_connector_class(app: str) -> type[Connector]:
    """The connector class registered for ``app``; a clear error when none is installed or
    what is installed is no connector."""
    for ep in entry_points(group=GROUP):
        if ep.name == app:
            return checked_connector(ep.load(), f"{ep.name} = {ep.value}")
    known = ", ".join(available_connectors()) or "none"
    raise ConfigurationError(
        f"No connector for app {app!r} is installed (installed: {known})",
        setting="sources[].app",
        hint="use one of the installed apps, or install the package that provides it",
    )


def checked_connector(obj: object, where: str) -> type[Connector]:
    """``obj`` as a connector class, or a clear error naming what it lacks."""
    missing = [name for name in REQUIRED_MEMBERS if not hasattr(obj, name)]
    if not inspect.isclass(obj) or missing:
        lacks = ", ".join(missing) if missing else "it is not a class"
        raise ConfigurationError(
            f"The connector registered as {where} does not implement the connector contract "
            f"(missing: {lacks})",
            setting="sources[].app",
            hint="install a version of the connector package written for this rostersync",
        )
    return cast(type[Connector], obj)
