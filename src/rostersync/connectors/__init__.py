"""Source connectors and their registry (the ``rostersync.connectors`` entry-point group).

Built-in connectors are registered exactly like a third-party one would be: a package declares
``[project.entry-points."rostersync.connectors"] <app> = "module:Class"`` and
:func:`get_connector_class` finds it by the ``app`` name used in a district configuration.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from rostersync.connectors.base import (
    ConnectionReport,
    Connector,
    ExtractResult,
    ProgressCallback,
    ProgressEvent,
    SchoolInfo,
)
from rostersync.errors import ConfigurationError

GROUP = "rostersync.connectors"

__all__ = [
    "GROUP",
    "ConnectionReport",
    "Connector",
    "ExtractResult",
    "ProgressCallback",
    "ProgressEvent",
    "SchoolInfo",
    "available_connectors",
    "get_connector_class",
]


def available_connectors() -> list[str]:
    """The ``app`` names of every installed connector, sorted."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def get_connector_class(app: str) -> Any:
    """The connector class registered for ``app``; a clear error when none is installed."""
    for ep in entry_points(group=GROUP):
        if ep.name == app:
            return ep.load()
    known = ", ".join(available_connectors()) or "none"
    raise ConfigurationError(
        f"No connector for app {app!r} is installed (installed: {known})",
        setting="sources[].app",
        hint="use one of the installed apps, or install the package that provides it",
    )
