"""PowerSchool SIS connector: OAuth plugin client, v1 + schema table API reads, canonical mapping.

Public API: :class:`PowerSchoolConnector` (registered in the ``rostersync.connectors`` entry-point
group as ``powerschool``), :class:`ExtractPlan`, :class:`PowerSchoolOptions`, and the plugin
generator :func:`write_plugin`.
"""

from __future__ import annotations

from rostersync.connectors.powerschool._tables import access_fields
from rostersync.connectors.powerschool.config import PowerSchoolOptions, parse_options
from rostersync.connectors.powerschool.connector import ExtractPlan, PowerSchoolConnector

__all__ = [
    "ExtractPlan",
    "PowerSchoolConnector",
    "PowerSchoolOptions",
    "access_fields",
    "parse_options",
]
