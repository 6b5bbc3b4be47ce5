"""The wizard pages: Application Gallery → app card → Activate → the steps → Done → RUN IMPORT.

Thin views over :mod:`rostersync.manage.wizard` (each step saved as a configuration version,
checked by the configuration validator, problems shown next to their fields),
:mod:`~rostersync.manage.sis` (Test Connection, the SIS's schools, the field finder),
:mod:`~rostersync.manage.sis_preview` (5 mapped records, each filter rule's counts) and
:mod:`~rostersync.manage.wizard_run` (RUN IMPORT and its progress). Every page answers JSON with
``?format=json``; the HTMX partials (test result, finder hits, sample, counts, progress) are
fragments of the same data.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from rostersync.admin.sessions import Session
from rostersync.config import TEMPLATES, HoldThreshold, fields
from rostersync.errors import ConfigValidationError, RostersyncError
from rostersync.manage import sis, sis_preview, wizard, wizard_run
from rostersync.manage.wizard import WizardState
from rostersync.store import District
from rostersync.web.console import wizard_forms as forms
from rostersync.web.console.deps import (
    NAV_PAGES,
    PREFIX,
    SessionDep,
    actor,
    district_for,
    render,
    settings_of,
    store_of,
    templates,
)
from rostersync.web.console.routing import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute)
NAV_PAGES.add("wizard")
BASE: Final = PREFIX + "/d/{district}/wizard"
#: The largest YAML file the import form reads.
MAX_YAML_BYTES: Final = 1024 * 1024
STEP_KEYS: Final = [s.key for s in wizard.STEPS]
HOLD_LIMITS: Final = ("delete_percent", "update_percent", "create_percent")


def _base(d: District) -> str:
    return f"{PREFIX}/d/{d.slug}/wizard"


def _fragment(request: Request, template: str, data: dict[str, Any], **context: Any) -> Response:
    """An HTMX partial (or its JSON twin)."""
    return render(request, template, data, **context)


# --- the gallery ------------------------------------------------------------------------------


@router.get(BASE, include_in_schema=False)
def gallery(request: Request, session: SessionDep, district: str) -> Response:
    """The Application Gallery, the district's sources with their progress, YAML in and out."""
    d = district_for(request, session, district, "read")
    state = wizard.wizard_state(store_of(request), d.id)
    sources = [
        wizard.wizard_state(store_of(request), d.id, str(s["name"])).as_dict()
        for s in (state.config or {}).get("sources", [])
    ]
    data = {"apps": [c.as_dict() for c in wizard.gallery()], "sources": sources}
    return render(
        request, "wizard_gallery.html", data, session=session, district=d, active="wizard"
    )


@router.get(BASE + "/apps/{app}", include_in_schema=False)
def app_page(request: Request, session: SessionDep, district: str, app: str) -> Response:
    """An app's card, with Activate."""
    d = district_for(request, session, district, "read")
    data = {"app": wizard.app_card(app).as_dict(), "steps": [s.as_dict() for s in wizard.STEPS]}
    return render(request, "wizard_app.html", data, session=session, district=d, active="wizard")


@router.post(BASE + "/apps/{app}/activate", include_in_schema=False)
async def activate(request: Request, session: SessionDep, district: str, app: str) -> Response:
    d = district_for(request, session, district, "write")
    form = await request.form()
    name = forms.text(form, "name") or app
    try:
        wizard.save_step(
            store_of(request),
            settings_of(request),
            actor(session),
            d.id,
            "activate",
            {"app": app, "name": name},
            server_secrets=session.account.role == "operator",
        )
    except ConfigValidationError as exc:
        data = {"app": wizard.app_card(app).as_dict(), "steps": [s.as_dict() for s in wizard.STEPS]}
        errors = {p.path: p.message for p in exc.problems}
        return render(
            request,
            "wizard_app.html",
            data,
            session=session,
            district=d,
            active="wizard",
            errors=errors,
            name=name,
            status=422,
        )
    return RedirectResponse(f"{_base(d)}/sources/{name}/sync_mode?app={app}", status_code=303)


@router.get(BASE + "/export.yaml", include_in_schema=False)
def export(request: Request, session: SessionDep, district: str) -> Response:
    """The newest configuration as a YAML file."""
    d = district_for(request, session, district, "read")
    text = wizard.export_yaml(store_of(request), d.id)
    return Response(
        text,
        media_type="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{d.slug}.yaml"'},
    )


@router.post(BASE + "/import", include_in_schema=False)
async def import_file(request: Request, session: SessionDep, district: str) -> Response:
    """Fill the wizard from an uploaded YAML file."""
    d = district_for(request, session, district, "write")
    form = await request.form()
    upload = form.get("file")
    raw = await upload.read(MAX_YAML_BYTES + 1) if isinstance(upload, UploadFile) else b""
    await form.close()  # the upload's temporary file
    problems: list[dict[str, str]] = []
    if not raw:
        problems = [{"path": "file", "message": "choose a YAML file to import"}]
    elif len(raw) > MAX_YAML_BYTES:
        problems = [{"path": "file", "message": "the file is larger than 1 MiB"}]
    else:
        try:
            state = wizard.import_yaml(
                store_of(request),
                actor(session),
                d.id,
                raw.decode("utf-8", errors="replace"),
                server_secrets=session.account.role == "operator",
            )
            return RedirectResponse(
                f"{_base(d)}/sources/{state.source}/done?imported=1", status_code=303
            )
        except ConfigValidationError as exc:
            problems = [{"path": p.path, "message": p.message} for p in exc.problems]
    state = wizard.wizard_state(store_of(request), d.id)
    data = {
        "apps": [c.as_dict() for c in wizard.gallery()],
        "sources": [state.as_dict()] if state.source else [],
        "import_problems": problems,
    }
    return render(
        request,
        "wizard_gallery.html",
        data,
        session=session,
        district=d,
        active="wizard",
        status=422,
    )


# --- the steps --------------------------------------------------------------------------------


def _context(
    request: Request, d: District, state: WizardState, step: str, app: str | None
) -> dict[str, Any]:
    """What every step page shows: the steps (progress), the source's values, the choices."""
    values = state.source_values()
    index = STEP_KEYS.index(step)
    return {
        "step": step,
        "title": wizard.STEPS[index].title,
        "help": wizard.STEPS[index].help,
        "previous": STEP_KEYS[index - 1] if index > 0 else None,
        "next": STEP_KEYS[index + 1] if index + 1 < len(STEP_KEYS) else None,
        "state": state.as_dict(),
        "current": values,
        "district_values": {k: v for k, v in (state.config or {}).items() if k != "sources"},
        "app": app or state.app,
        "pending": {k: request.query_params.get(k) for k in ("app", "sync_mode")},
    }


def _choices(step: str, app: str | None, sources: list[str]) -> dict[str, Any]:
    """Step-specific choices for the form (attributes, templates, operators, options…)."""
    attributes = {t: sorted(fields.attribute_dtypes(t)) for t in forms.ENTITY_TYPES}
    return {
        "entity_types": forms.ENTITY_TYPES,
        "attributes": attributes,
        "advanced": forms.ADVANCED,
        "options": forms.connector_options(app) if step == "delivery" else [],
        "uses_delivery": wizard.uses_delivery(app) if app else True,
        "templates": {
            t: [tpl for tpl in TEMPLATES.values() if t in tpl.types] for t in forms.ENTITY_TYPES
        },
        "operators": forms.OPERATORS,
        "sources": sources,
        "blank_rows": forms.BLANK_ROWS,
        "weekdays": ("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
        # A new district's form starts from the defaults: an empty box means "no limit".
        "hold_defaults": HoldThreshold().model_dump(include=set(HOLD_LIMITS)),
    }


def _step_page(
    request: Request,
    session: Session,
    d: District,
    source: str,
    step: str,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    wizard.step_named(step)  # an unknown step is a clear 422
    state = wizard.wizard_state(store_of(request), d.id, source)
    app = request.query_params.get("app") or state.app
    data = _context(request, d, state, step, app)
    names = [str(s["name"]) for s in (state.config or {}).get("sources", [])]
    return render(
        request,
        f"wizard_{step}.html",
        data,
        session=session,
        district=d,
        active="wizard",
        base=_base(d),
        source=source,
        choices=_choices(step, app, names),
        errors=errors or {},
        status=status,
        **extra,
    )


@router.get(BASE + "/sources/{source}/{step}", include_in_schema=False)
def step_page(
    request: Request, session: SessionDep, district: str, source: str, step: str
) -> Response:
    d = district_for(request, session, district, "read")
    extra: dict[str, Any] = {"imported": request.query_params.get("imported")}
    if step == "schools_mapping":
        try:
            found = sis.sis_schools(store_of(request), settings_of(request), d.id, source)
            extra["schools"] = [s.as_dict() for s in found]
        except RostersyncError as exc:  # AUTO MAPPING still works without the list
            extra.update(schools=[], schools_problem=str(exc))
    return _step_page(request, session, d, source, step, **extra)


def _merged(old: Any, new: dict[str, Any]) -> dict[str, Any]:
    """A section as the form leaves it: what the form does not show is kept."""
    return {**(old if isinstance(old, dict) else {}), **new}


def _values(
    request: Request, d: District, source: str, step: str, form: FormData
) -> dict[str, Any]:
    state = wizard.wizard_state(store_of(request), d.id, source)
    current = state.source_values()
    district_values = state.config or {}
    if step == "sync_mode":
        values: dict[str, Any] = {"sync_mode": forms.text(form, "sync_mode") or "import"}
        if not current:
            values.update({"name": source, "app": forms.text(form, "app")})
        return values
    if step == "delivery":
        app = forms.text(form, "app") or state.app
        values = forms.delivery_values(form, app)
        values["advanced"] = _merged(current.get("advanced"), values["advanced"])
        values["connector"] = _merged(current.get("connector"), values["connector"])
        values["hold_threshold"] = _merged(
            district_values.get("hold_threshold"), values["hold_threshold"]
        )
        if not current:
            values["name"] = source
        return values
    if step == "schools_mapping":
        ids = [k[7:-5] for k in form if k.startswith("school.") and k.endswith(".seen")]
        return forms.schools_values(form, ids)
    if step == "attribute_mapping":
        return forms.mapping_values(form)
    if step == "data_requirements":
        return forms.requirements_values(form)
    if step == "filter_rules":
        return forms.filter_values(form)
    if step == "uniqueness_domains":
        return forms.uniqueness_values(form)
    if step == "master_fields":
        return forms.master_values(form)
    if step == "sync_schedule":
        values = forms.schedule_values(form)
        values["sync_schedule"] = _merged(
            district_values.get("sync_schedule"), values["sync_schedule"]
        )
        values["notifications"] = _merged(
            district_values.get("notifications"), values["notifications"]
        )
        return values
    return {}


def _field_errors(problems: list[Any]) -> dict[str, str]:
    """Problems keyed by their path inside the source (``delivery.url``) and as given."""
    out: dict[str, str] = {}
    for p in problems:
        path = str(p.path)
        if path.startswith("sources[") and "]." in path:
            path = path.split("].", 1)[1]
        out[path] = p.message
    return out


@router.post(BASE + "/sources/{source}/{step}", include_in_schema=False)
async def save(
    request: Request, session: SessionDep, district: str, source: str, step: str
) -> Response:
    """Save the step as a new configuration version and go on (or back, or to Done)."""
    d = district_for(request, session, district, "write")
    wizard.step_named(step)
    form = await request.form()
    if step == "done":
        wizard.finish(store_of(request), actor(session), d.id, source)
        return RedirectResponse(f"{_base(d)}/sources/{source}/done?finished=1", status_code=303)
    try:
        values = _values(request, d, source, step, form)
        outcome = await run_in_threadpool(
            wizard.save_step,
            store_of(request),
            settings_of(request),
            actor(session),
            d.id,
            step,
            values,
            source=source,
            server_secrets=session.account.role == "operator",
        )
    except ConfigValidationError as exc:
        extra: dict[str, Any] = {"form": {k: forms.text(form, k) for k in form}}
        if step == "schools_mapping":
            extra["schools"] = []
        return _step_page(
            request,
            session,
            d,
            source,
            step,
            errors=_field_errors(exc.problems),
            status=422,
            **extra,
        )
    go = forms.text(form, "go")
    if go == "finish" and outcome.state.can_finish:
        wizard.finish(store_of(request), actor(session), d.id, source)
        return RedirectResponse(f"{_base(d)}/sources/{source}/done?finished=1", status_code=303)
    index = STEP_KEYS.index(step)
    target = STEP_KEYS[max(index - 1, 0)] if go == "back" else STEP_KEYS[index + 1]
    query = ""
    if outcome.version is None:  # a new source's activation, carried forward
        query = "?" + "&".join(f"{k}={v}" for k, v in outcome.pending.items() if k != "name")
    return RedirectResponse(f"{_base(d)}/sources/{source}/{target}{query}", status_code=303)


# --- the partials -----------------------------------------------------------------------------


@router.post(BASE + "/sources/{source}/tools/test-connection", include_in_schema=False)
async def test_connection(
    request: Request, session: SessionDep, district: str, source: str
) -> Response:
    """Test Connection of the form's values (saved or not); the connector's diagnosis."""
    d = district_for(request, session, district, "write")
    form = await request.form()
    delivery = {
        k: forms.text(form, f"delivery.{k}")
        for k in ("url", "client_id", "client_secret")
        if forms.text(form, f"delivery.{k}")
    }
    state = wizard.wizard_state(store_of(request), d.id, source)
    app = None if state.source_values() else forms.text(form, "app")
    options = forms.delivery_values(form, app or state.app)["connector"] if app else None
    try:
        check = await run_in_threadpool(
            sis.check_connection,
            store_of(request),
            settings_of(request),
            d.id,
            source,
            delivery=delivery,
            app=app,
            connector=options,
        )
        data = check.as_dict()
    except ConfigValidationError as exc:
        data = {"ok": False, "message": str(exc.problems[0]), "hint": None, "details": {}}
    except RostersyncError as exc:  # e.g. the stored secret cannot be read
        data = {"ok": False, "message": exc.message, "hint": exc.hint, "details": {}}
    return _fragment(request, "wizard_partial_connection.html", data)


@router.get(BASE + "/sources/{source}/tools/fields", include_in_schema=False)
def field_finder(request: Request, session: SessionDep, district: str, source: str) -> Response:
    d = district_for(request, session, district, "write")
    entity_type = request.query_params.get("entity_type") or None
    if entity_type is not None:
        sis_preview.check_entity_type(entity_type)
    try:
        hits = sis.find_fields(
            store_of(request),
            settings_of(request),
            d.id,
            source,
            query=request.query_params.get("q", "")[:200],
            entity_type=entity_type,
        )
    except RostersyncError as exc:  # the SIS could not be read, or cannot list its fields
        return _fragment(request, "wizard_partial_fields.html", {"problems": [str(exc)]})
    data = {"fields": [h.as_dict() for h in hits[:50]], "total": len(hits)}
    return _fragment(request, "wizard_partial_fields.html", data)


@router.post(BASE + "/sources/{source}/tools/sample", include_in_schema=False)
async def sample(request: Request, session: SessionDep, district: str, source: str) -> Response:
    d = district_for(request, session, district, "write")
    form = await request.form()
    entity_type = forms.text(form, "sample_entity") or "student"
    try:
        found = await run_in_threadpool(
            sis_preview.sample_records,
            store_of(request),
            settings_of(request),
            d.id,
            source,
            entity_type=entity_type,
            mapping=forms.mapping_values(form)["attribute_mapping"],
        )
        data: dict[str, Any] = found.as_dict()
    except ConfigValidationError as exc:
        data = {"problems": [str(p) for p in exc.problems]}
    except RostersyncError as exc:  # the SIS could not be read
        data = {"problems": [str(exc)]}
    return _fragment(request, "wizard_partial_sample.html", data)


@router.post(BASE + "/sources/{source}/tools/filter-counts", include_in_schema=False)
async def counts(request: Request, session: SessionDep, district: str, source: str) -> Response:
    d = district_for(request, session, district, "write")
    form = await request.form()
    try:
        found, extraction = await run_in_threadpool(
            sis_preview.filter_counts,
            store_of(request),
            settings_of(request),
            d.id,
            source,
            rules=forms.filter_values(form)["filter_rules"],
        )
        data: dict[str, Any] = {
            "entities": [c.as_dict() for c in found],
            "extraction": extraction.as_dict(),
        }
    except ConfigValidationError as exc:
        data = {"problems": [str(p) for p in exc.problems]}
    except RostersyncError as exc:  # the SIS could not be read
        data = {"problems": [str(exc)]}
    return _fragment(request, "wizard_partial_counts.html", data)


@router.post(BASE + "/sources/{source}/tools/run", include_in_schema=False)
def run_import(request: Request, session: SessionDep, district: str, source: str) -> Response:
    """RUN IMPORT: start a sync now and follow it."""
    d = district_for(request, session, district, "write")
    run_id = wizard_run.start_import(
        store_of(request), settings_of(request), actor(session), d.id, source
    )
    return RedirectResponse(f"{_base(d)}/runs/{run_id}", status_code=303)


@router.get(BASE + "/runs/{run_id}", include_in_schema=False)
def run_page(request: Request, session: SessionDep, district: str, run_id: int) -> Response:
    """A run's live progress per entity, then its result."""
    d = district_for(request, session, district, "read")
    progress = wizard_run.import_progress(store_of(request), d.id, run_id).as_dict()
    template = "wizard_partial_progress.html" if request.headers.get("hx-request") else None
    if template:
        return _fragment(request, template, progress, base=_base(d))
    return render(
        request,
        "wizard_run.html",
        progress,
        session=session,
        district=d,
        active="wizard",
        base=_base(d),
    )


templates.env.filters["transforms_text"] = forms.show_transforms
