"""What the wizard asks the SIS itself: Test Connection, the schools, and the field finder.

Every function works on a source of the district's newest configuration, through the source's
connector (found in the connector registry; nothing here knows which SIS it is):

* :func:`check_connection` — Test Connection: the connector's own diagnosis (a service URL
  pasted with an API path, a custom field the SIS does not have, fields not granted…).
  Delivery Config values not saved yet (``delivery``) can be tested before they are saved; a
  secret typed there is used for the test only, never kept.
* :func:`sis_schools` — the SIS's schools for Schools Mapping, each with whether the mapping
  includes it and under which name; AUTO MAPPING is the ``schools_mapping: auto`` step.
* :func:`find_fields` — the field finder of Attributes Mapping: searches the tables, extension
  groups and extension tables the connector exposes (``connectors.catalog.FieldCatalog``) and
  gives each hit as the ``TABLE.field`` to insert.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from rostersync.admin.secrets import lookup_for
from rostersync.config import DistrictConfig, SourceConfig, validate_config
from rostersync.connectors import ConnectionReport, Connector, SchoolInfo, get_connector_class
from rostersync.connectors.catalog import FieldCatalog, SourceField
from rostersync.errors import ConfigurationError
from rostersync.manage.configs import get_config_version
from rostersync.manage.wizard_steps import uses_delivery
from rostersync.settings import Settings
from rostersync.store import Store
from rostersync.sync.sources import resolve_client_secret

T = TypeVar("T")

#: Field finder hits returned at most.
MAX_HITS = 200


@dataclass(frozen=True)
class SourceRef:
    """A source of a district's newest configuration, ready to build its connector."""

    district_id: int
    config: DistrictConfig
    index: int
    source: SourceConfig


def source_of(store: Store, district: str | int, source: str | None = None) -> SourceRef:
    """The source ``source`` (default: the first) of the district's newest configuration."""
    info, body = get_config_version(store, district)
    config = validate_config(body, f"configuration version {info.version}")
    for index, s in enumerate(config.sources):
        if source in (None, s.name):
            return SourceRef(info.district_id, config, index, s)
    names = ", ".join(s.name for s in config.sources)
    raise ConfigurationError(
        f"source: {source!r} is not in the configuration", setting="source", hint=f"use {names}"
    )


def with_connector(
    store: Store,
    settings: Settings,
    ref: SourceRef,
    call: Callable[[Connector], Awaitable[T]],
    *,
    secret: str | None = None,
) -> T:
    """``call(connector)`` on the source's connector, its HTTP client closed afterwards."""
    if secret is None:
        lookup = lookup_for(store, settings, ref.district_id)
        secret = resolve_client_secret(ref.source, settings, ref.index, store_lookup=lookup)
    cls = get_connector_class(ref.source.app)
    typed: str = secret

    async def run() -> T:
        connector, client = cls.from_source(ref.source, typed)
        try:
            return await call(connector)
        finally:
            await client.aclose()

    return asyncio.run(run())


@dataclass(frozen=True)
class ConnectionCheck:
    """Test Connection's answer for one source."""

    source: str
    report: ConnectionReport

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, **self.report.to_dict()}


def _unsaved(ref: SourceRef, delivery: Mapping[str, Any]) -> tuple[SourceRef, str | None]:
    """The source with Delivery Config values not saved yet; the secret typed, if any."""
    body = ref.config.model_dump(mode="json", by_alias=True, exclude_none=True)
    source = body["sources"][ref.index]
    typed = delivery.get("client_secret")
    typed_fields = {k: v for k, v in delivery.items() if k != "client_secret"}
    source["delivery"] = {**(source.get("delivery") or {}), **typed_fields}
    config = validate_config(body, "the Delivery Config form")
    secret = typed.strip() if isinstance(typed, str) and typed.strip() else None
    return SourceRef(ref.district_id, config, ref.index, config.sources[ref.index]), secret


def _draft(
    store: Store,
    district: str | int,
    source: str | None,
    app: str,
    delivery: Mapping[str, Any],
    connector: Mapping[str, Any] | None,
) -> tuple[SourceRef, str | None]:
    """A source activated but not saved yet, with its Delivery Config form values (an app that
    reads files has its connector options and no delivery)."""
    d = store.get_district(district)
    draft: dict[str, Any] = {"name": source or app, "app": app, "connector": dict(connector or {})}
    reads_service = uses_delivery(app)
    if reads_service:
        draft["delivery"] = {**delivery, "client_secret": "store:unsaved"}
    config = validate_config({"district": d.name, "sources": [draft]}, "the Delivery Config form")
    typed = delivery.get("client_secret")
    if not reads_service:
        return SourceRef(d.id, config, 0, config.sources[0]), ""
    if not (isinstance(typed, str) and typed.strip()):
        raise ConfigurationError(
            "Test Connection of a new source needs the client secret",
            setting="delivery.client_secret",
            hint="type the client secret from the SIS",
        )
    return SourceRef(d.id, config, 0, config.sources[0]), typed.strip()


def check_connection(
    store: Store,
    settings: Settings,
    district: str | int,
    source: str | None = None,
    *,
    delivery: Mapping[str, Any] | None = None,
    app: str | None = None,
    connector: Mapping[str, Any] | None = None,
) -> ConnectionCheck:
    """Test Connection: the connector's diagnosis. A failed test is a report, not an error.

    ``delivery`` tests Delivery Config values before they are saved; with ``app`` (and the
    ``connector`` options of an app that reads files), a new source not saved at all yet.
    """
    secret = None
    if app is not None:
        ref, secret = _draft(store, district, source, app, delivery or {}, connector)
    else:
        ref = source_of(store, district, source)
        if delivery:
            ref, secret = _unsaved(ref, delivery)

    async def call(connector: Connector) -> ConnectionReport:
        return await connector.test_connection()

    report = with_connector(store, settings, ref, call, secret=secret)
    return ConnectionCheck(ref.source.name, report)


@dataclass(frozen=True)
class SchoolChoice:
    """A school of the SIS as Schools Mapping shows it."""

    school: SchoolInfo
    included: bool
    target: str | None

    def as_dict(self) -> dict[str, Any]:
        s = self.school
        return {
            "source_id": s.source_id,
            "name": s.name,
            "number": s.number,
            "low_grade": s.low_grade,
            "high_grade": s.high_grade,
            "included": self.included,
            "target": self.target,
        }


def sis_schools(
    store: Store, settings: Settings, district: str | int, source: str | None = None
) -> list[SchoolChoice]:
    """The SIS's schools, each marked with whether the saved Schools Mapping includes it."""
    ref = source_of(store, district, source)

    async def call(connector: Connector) -> list[SchoolInfo]:
        return await connector.list_schools()

    found = with_connector(store, settings, ref, call)
    mapping = ref.source.schools_mapping
    chosen = {} if mapping == "auto" else {m.source_id: m.target for m in mapping}
    out = []
    for school in found:
        keys = [school.source_id, *([school.number] if school.number else [])]
        hit = next((k for k in keys if k in chosen), None)
        included = mapping == "auto" or hit is not None
        out.append(SchoolChoice(school, included, chosen.get(hit) if hit else None))
    return out


@dataclass(frozen=True)
class FieldHit:
    """A field finder result: the field and the text to insert into the mapping."""

    field: SourceField

    @property
    def insert(self) -> str:
        return self.field.name

    def as_dict(self) -> dict[str, Any]:
        return {**self.field.as_dict(), "insert": self.insert}


def find_fields(
    store: Store,
    settings: Settings,
    district: str | int,
    source: str | None = None,
    *,
    query: str = "",
    entity_type: str | None = None,
) -> list[FieldHit]:
    """Fields of the SIS whose table, name or extension group contains ``query`` (any case)."""
    ref = source_of(store, district, source)
    words = [w for w in query.lower().split() if w]

    async def call(connector: Connector) -> list[SourceField]:
        if not isinstance(connector, FieldCatalog):
            raise ConfigurationError(
                f"The {ref.source.app} connector cannot list its source's fields",
                setting="attribute_mapping",
                hint="type the source field's name into the mapping",
            )
        return await connector.source_fields()

    catalog = with_connector(store, settings, ref, call)
    hits = []
    for f in catalog:
        if entity_type is not None and entity_type not in f.entity_types:
            continue
        haystack = f"{f.name} {f.group or ''} {f.kind}".lower()
        if all(w in haystack for w in words):
            hits.append(FieldHit(f))
    return hits[:MAX_HITS]
