"""OneRoster REST source: a consumer of any OneRoster 1.1 or 1.2 rostering provider.

Public API: :class:`OneRosterRestConnector` (registered in the ``rostersync.connectors``
entry-point group as ``oneroster_rest``) and its options :class:`RestOptions`.
"""

from __future__ import annotations

from rostersync.connectors.oneroster_rest.config import RestOptions, parse_options
from rostersync.connectors.oneroster_rest.connector import OneRosterRestConnector

__all__ = ["OneRosterRestConnector", "RestOptions", "parse_options"]
