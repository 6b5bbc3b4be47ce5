"""``/api/v1/apps`` and ``/api/v1/districts/{district}/wizard``: the Application Gallery and the
configuration wizard — its state, each step saved as a configuration version, FINISH, YAML
export and import, Test Connection, the SIS's schools, the field finder, and the live previews
(5 mapped records, each filter rule's counts). Thin: every route calls
:mod:`rostersync.manage.wizard`, :mod:`~rostersync.manage.sis` or
:mod:`~rostersync.manage.sis_preview`, as the console's wizard pages do."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from rostersync.manage import sis, sis_preview, wizard
from rostersync.web.api_v1._core import (
    ApiRoute,
    Caller,
    CallerDep,
    district_for,
    settings_of,
    store_of,
)
from rostersync.web.api_v1.models import ConnectionReportOut, Model

router = APIRouter(route_class=ApiRoute, tags=["wizard"])
BASE = "/districts/{district}/wizard"
SourceQuery = Annotated[
    str | None, Query(max_length=100, description="a source's name (default: the first)")
]


class AppCardOut(Model):
    app: str
    title: str
    summary: str
    capabilities: dict[str, bool]
    uses_delivery: bool


class StepOut(Model):
    key: str
    title: str
    help: str
    settings: list[str]
    done: bool
    version: int | None


class WizardStateOut(Model):
    district_id: int
    district: str
    source: str | None
    app: str | None
    config_version: int | None
    steps: list[StepOut]
    next_step: str
    can_finish: bool
    finished: bool
    config: dict[str, Any] | None


class StepSavedOut(Model):
    step: str
    version: int | None
    saved: bool
    pending: dict[str, Any]
    state: WizardStateOut


class YamlIn(Model):
    yaml: str


class YamlOut(Model):
    version: int
    yaml: str


class ConnectionTestIn(Model):
    source: str | None = None
    app: str | None = None
    delivery: dict[str, Any] | None = None
    connector: dict[str, Any] | None = None


class SchoolOut(Model):
    source_id: str
    name: str
    number: str | None
    low_grade: str | None
    high_grade: str | None
    included: bool
    target: str | None


class FieldOut(Model):
    name: str
    table: str
    field: str
    kind: str
    entity_types: list[str]
    group: str | None
    type: str | None
    readable: bool
    insert: str


class ExtractionOut(Model):
    extracted_at: str
    counts: dict[str, int]


class SampleIn(Model):
    source: str | None = None
    entity_type: str = "student"
    attribute_mapping: dict[str, Any] | None = None
    refresh: bool = False


class SampleOut(Model):
    entity_type: str
    columns: list[str]
    records: list[dict[str, Any]]
    total: int
    extraction: ExtractionOut


class FilterCountsIn(Model):
    source: str | None = None
    filter_rules: dict[str, Any] | None = None
    refresh: bool = False


class RuleCountOut(Model):
    label: str
    dropped: int
    kept: int


class EntityCountsOut(Model):
    entity_type: str
    records: int
    rules: list[RuleCountOut]
    kept: int


class FilterCountsOut(Model):
    entities: list[EntityCountsOut]
    extraction: ExtractionOut


def _operator(caller: Caller) -> bool:
    """Operators run the installation: they may name secrets read on the server."""
    return caller.account.role == "operator"


@router.get("/apps", response_model=list[AppCardOut])
def list_apps(caller: CallerDep) -> list[AppCardOut]:
    """The Application Gallery: every installed source app."""
    del caller  # any signed-in admin
    return [AppCardOut.model_validate(c.as_dict()) for c in wizard.gallery()]


@router.get(BASE, response_model=WizardStateOut)
def get_state(
    request: Request, caller: CallerDep, district: str, source: SourceQuery = None
) -> WizardStateOut:
    """Where the wizard stands: each step saved or not, the next one, FINISH allowed or not."""
    d = district_for(store_of(request), caller, district, "read")
    state = wizard.wizard_state(store_of(request), d.id, source)
    return WizardStateOut.model_validate(state.as_dict())


@router.put(BASE + "/steps/{step}", response_model=StepSavedOut)
def save_step(
    request: Request,
    caller: CallerDep,
    district: str,
    step: str,
    body: Annotated[
        dict[str, Any], Body(description="the step's sections, as the YAML names them")
    ],
    source: SourceQuery = None,
) -> StepSavedOut:
    """Check a step with the whole configuration and save it as the next version.

    422 lists every problem with its configuration path. Activate and Sync Mode of a new source
    come back as ``pending`` (send them again with Delivery Config, which saves them)."""
    store = store_of(request)
    d = district_for(store, caller, district, "write")
    outcome = wizard.save_step(
        store,
        settings_of(request),
        caller.actor,
        d.id,
        step,
        body,
        source=source,
        server_secrets=_operator(caller),
    )
    return StepSavedOut.model_validate(outcome.as_dict())


@router.post(BASE + "/finish", response_model=StepSavedOut)
def finish(
    request: Request, caller: CallerDep, district: str, source: SourceQuery = None
) -> StepSavedOut:
    """FINISH: allowed once Attributes Mapping is saved (the later steps keep defaults)."""
    store = store_of(request)
    d = district_for(store, caller, district, "write")
    return StepSavedOut.model_validate(wizard.finish(store, caller.actor, d.id, source).as_dict())


@router.get(BASE + "/export", response_model=YamlOut)
def export_yaml(
    request: Request,
    caller: CallerDep,
    district: str,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> YamlOut:
    """A configuration version (default: the newest) as YAML, as ``config validate`` reads it."""
    store = store_of(request)
    d = district_for(store, caller, district, "read")
    text = wizard.export_yaml(store, d.id, version)
    number = version or wizard.wizard_state(store, d.id).config_version or 0
    return YamlOut(version=number, yaml=text)


@router.post(BASE + "/import", response_model=WizardStateOut)
def import_yaml(request: Request, caller: CallerDep, district: str, body: YamlIn) -> WizardStateOut:
    """Fill the wizard from a YAML configuration: validated whole, saved as the next version."""
    store = store_of(request)
    d = district_for(store, caller, district, "write")
    state = wizard.import_yaml(
        store, caller.actor, d.id, body.yaml, server_secrets=_operator(caller)
    )
    return WizardStateOut.model_validate(state.as_dict())


@router.post(BASE + "/test-connection", response_model=ConnectionReportOut)
def connection_test(
    request: Request, caller: CallerDep, district: str, body: ConnectionTestIn | None = None
) -> ConnectionReportOut:
    """Test Connection with the connector's diagnosis, of the saved Delivery Config or of
    values not saved yet (``delivery``; with ``app`` for a source not saved at all). A failed
    test is a 200 with ``ok: false`` and what is wrong."""
    store = store_of(request)
    d = district_for(store, caller, district, "write")  # it sends the source's secret out
    given = body or ConnectionTestIn()
    check = sis.check_connection(
        store,
        settings_of(request),
        d.id,
        given.source,
        delivery=given.delivery,
        app=given.app,
        connector=given.connector,
    )
    return ConnectionReportOut.model_validate(check.as_dict())


@router.get(BASE + "/schools", response_model=list[SchoolOut])
def schools(
    request: Request, caller: CallerDep, district: str, source: SourceQuery = None
) -> list[SchoolOut]:
    """The SIS's schools, each marked with whether the saved Schools Mapping includes it."""
    store = store_of(request)
    d = district_for(store, caller, district, "write")
    found = sis.sis_schools(store, settings_of(request), d.id, source)
    return [SchoolOut.model_validate(s.as_dict()) for s in found]


@router.get(BASE + "/fields", response_model=list[FieldOut])
def fields(
    request: Request,
    caller: CallerDep,
    district: str,
    source: SourceQuery = None,
    q: Annotated[str, Query(max_length=200, description="words to find")] = "",
    entity_type: Annotated[str | None, Query(max_length=20)] = None,
) -> list[FieldOut]:
    """The field finder: the SIS's tables, extension groups and extension tables; ``insert``
    is the ``TABLE.field`` an attribute mapping names."""
    store = store_of(request)
    d = district_for(store, caller, district, "write")
    if entity_type is not None:
        sis_preview.check_entity_type(entity_type)
    hits = sis.find_fields(
        store, settings_of(request), d.id, source, query=q, entity_type=entity_type
    )
    return [FieldOut.model_validate(h.as_dict()) for h in hits]


@router.post(BASE + "/sample", response_model=SampleOut)
def sample(request: Request, caller: CallerDep, district: str, body: SampleIn) -> SampleOut:
    """5 records as the saved (or the given) attribute mapping fills them."""
    store = store_of(request)
    d = district_for(store, caller, district, "write")
    found = sis_preview.sample_records(
        store,
        settings_of(request),
        d.id,
        body.source,
        entity_type=body.entity_type,
        mapping=body.attribute_mapping,
        refresh=body.refresh,
    )
    return SampleOut.model_validate(found.as_dict())


@router.post(BASE + "/filter-counts", response_model=FilterCountsOut)
def filter_counts(
    request: Request, caller: CallerDep, district: str, body: FilterCountsIn
) -> FilterCountsOut:
    """What each filter rule (saved, or given) keeps and drops on the last extraction."""
    store = store_of(request)
    d = district_for(store, caller, district, "write")
    counts, extraction = sis_preview.filter_counts(
        store,
        settings_of(request),
        d.id,
        body.source,
        rules=body.filter_rules,
        refresh=body.refresh,
    )
    return FilterCountsOut.model_validate(
        {"entities": [c.as_dict() for c in counts], "extraction": extraction.as_dict()}
    )
