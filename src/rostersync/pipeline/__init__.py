"""The configured rules as pure, columnar stages over canonical Polars tables.

Stages (each ``(tables, config) -> (tables, StageReport)``, no I/O, no clock): schools mapping,
attribute mapping, contact name parsing, data requirements, filter rules, SIS prefix, uniqueness
domains; then the domains of uniqueness across sources, the master-field merge, the kept identity
decisions and re-linking, the referential cleanup and validity (every record valid against the
OneRoster data model, with documented fallbacks).
:func:`run_pipeline` runs them all and returns the candidate roster and its :class:`RunReport`.
"""

from __future__ import annotations

from rostersync.pipeline._previous import PreviousRoster, PublishedRoster
from rostersync.pipeline._report import REPORT_SCHEMA, RunReport, StageReport
from rostersync.pipeline._run import SOURCE_STAGES, complete, run_pipeline, run_source
from rostersync.pipeline.cleanup import referential_cleanup
from rostersync.pipeline.contacts import contact_name_parsing
from rostersync.pipeline.crosssource import match_across_sources
from rostersync.pipeline.filters import filter_rules
from rostersync.pipeline.mapping import attribute_mapping
from rostersync.pipeline.matches import DECISIONS_SCHEMA, KINDS, apply_matches, no_decisions
from rostersync.pipeline.merge import master_field_merge
from rostersync.pipeline.prefix import sis_prefix
from rostersync.pipeline.relink import LINKS_SCHEMA, Relinked, relink, relink_keys
from rostersync.pipeline.requirements import data_requirements
from rostersync.pipeline.schools import schools_mapping
from rostersync.pipeline.uniqueness import uniqueness_domains
from rostersync.pipeline.validity import validity

__all__ = [
    "DECISIONS_SCHEMA",
    "KINDS",
    "LINKS_SCHEMA",
    "REPORT_SCHEMA",
    "SOURCE_STAGES",
    "PreviousRoster",
    "PublishedRoster",
    "Relinked",
    "RunReport",
    "StageReport",
    "apply_matches",
    "attribute_mapping",
    "complete",
    "contact_name_parsing",
    "data_requirements",
    "filter_rules",
    "master_field_merge",
    "match_across_sources",
    "no_decisions",
    "referential_cleanup",
    "relink",
    "relink_keys",
    "run_pipeline",
    "run_source",
    "schools_mapping",
    "sis_prefix",
    "uniqueness_domains",
    "validity",
]
