"""The pipeline entry point: every configured stage in order, one run report.

Per source: schools mapping → attribute mapping → contact name parsing → data requirements →
filter rules → SIS prefix → uniqueness domains; then, across sources, the domains of uniqueness
between sources that share people and the master-field merge; the referential cleanup; validity
(every record valid against the OneRoster data model) and, last, on the roster as it would be
published, the kept identity decisions (manual matches, earlier re-links) and re-linking against
the last published roster.
Pure: tables and configuration in, tables and report out.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from rostersync.config import DistrictConfig, SourceConfig
from rostersync.errors import ConfigurationError
from rostersync.model import ENTITIES, Roster, conform
from rostersync.pipeline._previous import PreviousRoster
from rostersync.pipeline._report import RunReport, StageReport
from rostersync.pipeline.cleanup import referential_cleanup
from rostersync.pipeline.contacts import contact_name_parsing
from rostersync.pipeline.crosssource import match_across_sources
from rostersync.pipeline.filters import filter_rules
from rostersync.pipeline.mapping import attribute_mapping
from rostersync.pipeline.matches import apply_matches, kept_apart, no_decisions
from rostersync.pipeline.merge import master_field_merge
from rostersync.pipeline.prefix import sis_prefix
from rostersync.pipeline.relink import relink
from rostersync.pipeline.requirements import data_requirements
from rostersync.pipeline.schools import schools_mapping
from rostersync.pipeline.uniqueness import uniqueness_domains
from rostersync.pipeline.validity import validity

Stage = Callable[[Roster, SourceConfig], tuple[Roster, StageReport]]

#: The per-source stages, in order.
SOURCE_STAGES: tuple[Stage, ...] = (
    schools_mapping,
    attribute_mapping,
    contact_name_parsing,
    data_requirements,
    filter_rules,
    sis_prefix,
    uniqueness_domains,
)


def complete(tables: Roster) -> Roster:
    """Every canonical table present and in its declared schema (absent ones empty)."""
    out: Roster = {}
    for name, entity in ENTITIES.items():
        table = tables.get(name)
        if table is None:
            out[name] = entity.empty()
        elif table.schema != entity.schema:
            out[name] = conform(entity, table)
        else:
            out[name] = table
    return out


def run_source(
    tables: Roster, config: SourceConfig, stages: tuple[Stage, ...] = SOURCE_STAGES
) -> tuple[Roster, list[StageReport]]:
    """One source's roster through its stages."""
    reports: list[StageReport] = []
    current = complete(tables)
    for stage in stages:
        current, report = stage(current, config)
        reports.append(report)
    return current, reports


def run_pipeline(
    roster_by_source: dict[str, Roster],
    config: DistrictConfig,
    *,
    previous: PreviousRoster | None = None,
    decisions: pl.DataFrame | None = None,
) -> tuple[Roster, RunReport]:
    """The candidate roster and the run report from each source's extracted roster.

    ``previous`` is the last published roster (re-linking compares with it; None: no
    re-linking) and ``decisions`` the kept identity decisions
    (:mod:`rostersync.pipeline.matches`). The re-links found are in :attr:`RunReport.links`.
    """
    names = [s.name for s in config.sources]
    unknown = sorted(set(roster_by_source) - set(names))
    if unknown:
        raise ConfigurationError(
            f"data given for source(s) {', '.join(unknown)} that the configuration does not have",
            setting="sources",
            hint=f"configured sources: {', '.join(names)}",
        )
    reports: list[StageReport] = []
    processed: dict[str, Roster] = {}
    records_in = dict.fromkeys(ENTITIES, 0)
    for source in config.sources:
        if source.name not in roster_by_source:
            continue
        tables = complete(roster_by_source[source.name])
        for name, table in tables.items():
            records_in[name] += table.height
        processed[source.name], stage_reports = run_source(tables, source)
        reports.extend(stage_reports)
    if not processed:
        empty = complete({})
        return empty, RunReport([], records_in, dict.fromkeys(ENTITIES, 0))
    kept = decisions if decisions is not None else no_decisions()
    if len(processed) > 1:
        processed, cross_report = match_across_sources(processed, config, kept_apart(kept))
        reports.append(cross_report)
    merged, merge_report = master_field_merge(processed, config)
    reports.append(merge_report)
    final, cleanup_report = referential_cleanup(merged)
    reports.append(cleanup_report)
    final, validity_report = validity(final)
    reports.append(validity_report)
    # Last, on the roster as it would be published: what was published is compared with it.
    if decisions is not None:
        final, matches_report = apply_matches(final, kept)
        reports.append(matches_report)
    links = None
    if previous is not None:
        relinked = relink(final, previous, config, kept_apart(kept))
        final, links = relinked.roster, relinked.links
        reports.append(relinked.report)
    final = {name: final[name].select(ENTITIES[name].field_names) for name in ENTITIES}
    records_out = {name: table.height for name, table in final.items()}
    return final, RunReport(reports, records_in, records_out, links)
