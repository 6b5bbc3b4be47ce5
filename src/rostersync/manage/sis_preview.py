"""Live previews of the wizard: a sample of 5 mapped records, and what each filter rule keeps.

Both read the wizard's last extraction of the source: the canonical tables its connector
extracted, kept as Parquet files in a private directory of the data directory
(``wizard/district-<id>/<source>/``). The extraction is made again when what it depends on
changed (delivery, connector options, advanced settings, schools mapping, or the custom fields
the attribute mapping reads) or when asked to; filters, requirements and uniqueness do not need
a new one. The previews run the pipeline's own stages over it (schools mapping → attribute
mapping → contact names → data requirements → filter rules), so what they show is what a sync
would do.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import polars as pl

from rostersync import fsutil
from rostersync.clock import utcnow
from rostersync.config import SourceConfig, fields, validate_config
from rostersync.connectors import Connector, Extraction
from rostersync.errors import ConfigurationError
from rostersync.manage.sis import SourceRef, source_of, with_connector
from rostersync.model import ENTITY_TYPES, Roster
from rostersync.pipeline import (
    attribute_mapping,
    contact_name_parsing,
    data_requirements,
    filter_rules,
    run_source,
    schools_mapping,
)
from rostersync.pipeline.filters import TYPE_ORDER
from rostersync.settings import Settings
from rostersync.store import Store

SAMPLE_SIZE: Final = 5
_MAPPED = (schools_mapping, attribute_mapping, contact_name_parsing)
_BEFORE_FILTERS = (*_MAPPED, data_requirements)
#: What a sample shows of each record besides the mapped attributes.
_IDENTITY: Final = ("sourcedId", "givenName", "familyName", "email", "title", "role")


def _fingerprint(source: SourceConfig) -> str:
    """What an extraction depends on: a new value means a new extraction."""
    custom = sorted(
        name
        for attrs in source.attribute_mapping.values()
        for rule in attrs.values()
        for name in rule.referenced_fields()
        if "." in name and not name.startswith("metadata.")
    )
    basis = {
        "app": source.app,
        "delivery": source.delivery.model_dump(mode="json") if source.delivery else None,
        "connector": source.connector,
        "advanced": source.advanced.model_dump(mode="json"),
        "schools_mapping": source.model_dump(mode="json")["schools_mapping"],
        "custom": custom,
    }
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()


def district_extractions(data_dir: Path, district_id: int) -> Path:
    """Where the wizard keeps a district's last extractions (purged with the district)."""
    return data_dir / "wizard" / f"district-{district_id}"


def _directory(settings: Settings, district_id: int, source: str) -> Path:
    return district_extractions(settings.ensure_data_dir(), district_id) / source


@dataclass(frozen=True)
class LastExtraction:
    """The wizard's last extraction of a source: when, and the records per table."""

    extracted_at: str
    counts: dict[str, int]
    roster: Roster

    def as_dict(self) -> dict[str, Any]:
        return {"extracted_at": self.extracted_at, "counts": self.counts}


def _read(directory: Path, fingerprint: str) -> LastExtraction | None:
    try:
        meta = json.loads((directory / "extraction.json").read_text())
    except (OSError, ValueError):
        return None
    if meta.get("fingerprint") != fingerprint:
        return None
    roster = {name: pl.read_parquet(directory / f"{name}.parquet") for name in meta["counts"]}
    return LastExtraction(meta["extracted_at"], meta["counts"], roster)


def _write(directory: Path, fingerprint: str, roster: Roster) -> LastExtraction:
    # A new directory each time, swapped in whole: a reader never sees half of two extractions.
    parent = fsutil.private_dir(directory.parent)
    fresh = parent / f".{directory.name}.new"
    shutil.rmtree(fresh, ignore_errors=True)
    fsutil.private_dir(fresh)
    counts = {name: frame.height for name, frame in roster.items()}
    for name, frame in roster.items():
        frame.write_parquet(fresh / f"{name}.parquet")
    at = utcnow().isoformat()
    meta = {"fingerprint": fingerprint, "extracted_at": at, "counts": counts}
    fsutil.atomic_write(fresh / "extraction.json", json.dumps(meta))
    fsutil.narrow_files(fresh)
    shutil.rmtree(directory, ignore_errors=True)
    fresh.rename(directory)
    return LastExtraction(at, counts, roster)


def last_extraction(
    store: Store, settings: Settings, ref: SourceRef, *, refresh: bool = False
) -> LastExtraction:
    """The source's last wizard extraction, made now when missing, outdated or ``refresh``."""
    directory = _directory(settings, ref.district_id, ref.source.name)
    fingerprint = _fingerprint(ref.source)
    found = None if refresh else _read(directory, fingerprint)
    if found is not None:
        return found
    mapping = ref.source.schools_mapping
    scope = None if mapping == "auto" else [m.source_id for m in mapping]

    async def call(connector: Connector) -> Extraction:
        return await connector.extract(scope)

    extraction = with_connector(store, settings, ref, call)
    return _write(directory, fingerprint, extraction.roster)


def _with(ref: SourceRef, section: str, value: Any) -> SourceRef:
    """The source with one section replaced by form values not saved yet (validated)."""
    if value is None:
        return ref
    body = ref.config.model_dump(mode="json", by_alias=True, exclude_none=True)
    body["sources"][ref.index][section] = value
    config = validate_config(body, f"the {section} form")
    return SourceRef(ref.district_id, config, ref.index, config.sources[ref.index])


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def _rows_of(tables: Roster, entity_type: str) -> pl.DataFrame:
    t = ENTITY_TYPES[entity_type]
    return tables[t.entity].filter(t.mask())


@dataclass(frozen=True)
class Sample:
    """A few records of one entity type as the attribute mapping fills them."""

    entity_type: str
    columns: list[str]
    records: list[dict[str, Any]]
    total: int
    extraction: LastExtraction

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity_type": self.entity_type,
            "columns": self.columns,
            "records": self.records,
            "total": self.total,
            "extraction": self.extraction.as_dict(),
        }


def check_entity_type(entity_type: str) -> str:
    if entity_type not in ENTITY_TYPES:
        raise ConfigurationError(
            f"entity_type: {entity_type!r} is not an entity type",
            setting="entity_type",
            hint="one of " + ", ".join(ENTITY_TYPES),
        )
    return entity_type


def sample_records(
    store: Store,
    settings: Settings,
    district: str | int,
    source: str | None = None,
    *,
    entity_type: str = "student",
    mapping: Mapping[str, Any] | None = None,
    refresh: bool = False,
) -> Sample:
    """The first 5 records of ``entity_type`` mapped by the saved (or the given) mapping."""
    check_entity_type(entity_type)
    ref = _with(source_of(store, district, source), "attribute_mapping", mapping)
    extraction = last_extraction(store, settings, ref, refresh=refresh)
    tables, _ = run_source(extraction.roster, ref.source, _MAPPED)
    rows = _rows_of(tables, entity_type)
    mapped = list(ref.source.attribute_mapping.get(entity_type, {}))  # type: ignore[call-overload]
    shown = [c for c in dict.fromkeys((*_IDENTITY, *mapped)) if c in rows.columns]
    extra = [c for c in mapped if c not in rows.columns and c in fields.DEMOGRAPHIC_EXTRAS]
    head = rows.head(SAMPLE_SIZE).select(shown)
    if extra:
        demo = tables["demographics"].select("sourcedId", *extra)
        head = head.join(demo, on="sourcedId", how="left")
    records = [{k: _json_value(v) for k, v in r.items()} for r in head.to_dicts()]
    return Sample(entity_type, head.columns, records, rows.height, extraction)


@dataclass(frozen=True)
class RuleCount:
    """What one filter rule does: records it drops (that no earlier rule dropped), and those
    of its entity type left after it."""

    label: str
    dropped: int
    kept: int

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "dropped": self.dropped, "kept": self.kept}


@dataclass(frozen=True)
class FilterCounts:
    """Per entity type: records before the filters, each rule's counts, records kept."""

    entity_type: str
    records: int
    rules: list[RuleCount]
    kept: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity_type": self.entity_type,
            "records": self.records,
            "rules": [r.as_dict() for r in self.rules],
            "kept": self.kept,
        }


def filter_counts(
    store: Store,
    settings: Settings,
    district: str | int,
    source: str | None = None,
    *,
    rules: Mapping[str, Any] | None = None,
    refresh: bool = False,
) -> tuple[list[FilterCounts], LastExtraction]:
    """Live counts of the saved (or the given) filter rules over the last extraction."""
    ref = _with(source_of(store, district, source), "filter_rules", rules)
    extraction = last_extraction(store, settings, ref, refresh=refresh)
    tables, _ = run_source(extraction.roster, ref.source, _BEFORE_FILTERS)
    _, report = filter_rules(tables, ref.source)
    dropped = (
        report.records.filter(pl.col("action") == "filtered").group_by("entityType", "reason").len()
    )
    by_rule = {(r["entityType"], r["reason"]): int(r["len"]) for r in dropped.to_dicts()}
    out = []
    for etype in TYPE_ORDER:
        configured = ref.source.filter_rules.get(etype) or []
        labels = [r.label(i) for i, r in enumerate(configured)]
        adv = ref.source.advanced
        if etype == "contact" and adv.contact_module and adv.contact_filter is not None:
            labels.append("advanced.contact_filter")
        total = _rows_of(tables, etype).height
        left = total
        counts = []
        for label in dict.fromkeys(labels):
            gone = by_rule.get((etype, label), 0)
            left -= gone
            counts.append(RuleCount(label, gone, left))
        out.append(FilterCounts(etype, total, counts, left))
    return out, extraction
