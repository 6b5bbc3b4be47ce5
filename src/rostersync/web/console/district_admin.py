"""A district's hold overrides and API clients: create, see, revoke — over the sync package's
override functions and ``manage.create_api_client``/``list_api_clients``/``revoke_api_client``.
An API client's secret is shown on the answer that creates it, and never again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from rostersync import manage
from rostersync.errors import ConfigurationError
from rostersync.export.oneroster.clients import SCOPES
from rostersync.export.oneroster.sharing import SENSITIVE
from rostersync.sync.changesets import grant_override, list_overrides, revoke_override
from rostersync.web.console.deps import (
    NAV_PAGES,
    PREFIX,
    RecordId,
    SessionDep,
    actor,
    district_for,
    render,
    settings_of,
    store_of,
)
from rostersync.web.console.routing import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute)
NAV_PAGES.update({"overrides", "clients"})
OVERRIDES = PREFIX + "/d/{district}/overrides"
CLIENTS = PREFIX + "/d/{district}/clients"


# --- hold overrides ---------------------------------------------------------------------------


def _overrides_page(
    request: Request, session: SessionDep, district: str, *, status: int = 200, **context: Any
) -> Response:
    d = district_for(request, session, district)
    found = list_overrides(store_of(request), d.id)
    data = {"overrides": [o.to_dict() for o in reversed(found)]}
    return render(
        request,
        "overrides.html",
        data,
        session=session,
        district=d,
        status=status,
        active="overrides",
        today=datetime.now(UTC).date().isoformat(),
        **context,
    )


@router.get(OVERRIDES, include_in_schema=False)
def overrides_page(request: Request, session: SessionDep, district: str) -> Response:
    return _overrides_page(request, session, district)


@router.post(OVERRIDES, include_in_schema=False)
def create_override(
    request: Request,
    session: SessionDep,
    district: str,
    until: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Let runs go over the hold threshold up to a date (replaces earlier grants)."""
    d = district_for(request, session, district, "write")
    try:
        day = date.fromisoformat(until.strip())
    except ValueError:
        return _overrides_page(
            request,
            session,
            district,
            status=422,
            until_error=f"Until: {until!r} is not a date (YYYY-MM-DD)",
        )
    try:
        grant_override(
            store_of(request), d.id, day, actor=actor(session), reason=reason.strip() or None
        )
    except ConfigurationError as exc:
        return _overrides_page(request, session, district, status=422, until_error=exc.message)
    return RedirectResponse(f"{PREFIX}/d/{d.slug}/overrides", status_code=303)


@router.post(OVERRIDES + "/{override_id}/revoke", include_in_schema=False)
def revoke(
    request: Request,
    session: SessionDep,
    district: str,
    override_id: RecordId,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """End an override now: runs are held by the threshold again. A reason is required."""
    d = district_for(request, session, district, "write")
    if not reason.strip():
        return _overrides_page(
            request,
            session,
            district,
            status=422,
            revoke_error=(override_id, "Give the reason for revoking"),
        )
    revoke_override(
        store_of(request),
        d.id,
        actor=actor(session),
        reason=reason.strip(),
        today=datetime.now(UTC).date(),
        override_id=override_id,
    )
    return RedirectResponse(f"{PREFIX}/d/{d.slug}/overrides", status_code=303)


# --- API clients ------------------------------------------------------------------------------


def _clients_page(
    request: Request,
    session: SessionDep,
    district: str,
    *,
    status: int = 200,
    issued: dict[str, Any] | None = None,
    **context: Any,
) -> Response:
    d = district_for(request, session, district)
    key = settings_of(request).get_secret_key()
    clients = [c.as_dict() for c in manage.list_api_clients(store_of(request), key, d.id)]
    data: dict[str, Any] = {"clients": clients}
    if issued is not None:
        data["issued"] = issued
    return render(
        request,
        "clients.html",
        data,
        session=session,
        district=d,
        status=status,
        active="clients",
        scopes=SCOPES,
        sensitive=SENSITIVE,
        **context,
    )


@router.get(CLIENTS, include_in_schema=False)
def clients_page(request: Request, session: SessionDep, district: str) -> Response:
    return _clients_page(request, session, district)


def _field_name(message: str) -> str:
    """A service error names the CLI option; the form names its own field."""
    for option, label in (
        ("--expires", "Expires"),
        ("--schools", "Schools"),
        ("--scopes", "Scopes"),
        ("--grant", "Sensitive data"),
        ("--name", "Name"),
    ):
        message = message.replace(option, label)
    return message


@router.post(CLIENTS, include_in_schema=False)
async def create_client(request: Request, session: SessionDep, district: str) -> Response:
    """Issue an API client for an app; its secret is on this answer only."""
    d = district_for(request, session, district, "write")
    form = await request.form()
    name = str(form.get("name") or "").strip()
    scopes = [str(s) for s in form.getlist("scopes")]
    grant = [str(g) for g in form.getlist("grant")]
    schools_text = str(form.get("schools") or "")
    schools = [s.strip() for s in schools_text.split(",") if s.strip()] or None
    key = settings_of(request).get_secret_key()
    try:
        if not name or len(name) > 200:
            raise ConfigurationError("Name: give the app's name (1–200 characters)")
        if not scopes:
            raise ConfigurationError("Scopes: choose at least one scope")
        expires = manage.parse_expiry(str(form.get("expires") or ""))
        issued = manage.create_api_client(
            store_of(request),
            actor(session),
            key,
            d.id,
            name,
            scopes,
            schools=schools,
            grant=grant,
            expires_at=expires,
        )
    except ConfigurationError as exc:
        return _clients_page(
            request,
            session,
            district,
            status=422,
            client_error=_field_name(exc.message),
            form={"name": name, "scopes": scopes, "grant": grant, "schools": schools_text},
        )
    shown = manage.show_api_client(store_of(request), key, d.id, issued.client.client_id)
    return _clients_page(
        request,
        session,
        district,
        issued={**shown.as_dict(), "client_secret": issued.client_secret},
    )


@router.post(CLIENTS + "/{client_id}/revoke", include_in_schema=False)
def revoke_client(request: Request, session: SessionDep, district: str, client_id: str) -> Response:
    """Revoke an app's client: its secret and tokens stop working at once."""
    d = district_for(request, session, district, "write")
    key = settings_of(request).get_secret_key()
    manage.revoke_api_client(store_of(request), actor(session), key, d.id, client_id)
    return RedirectResponse(f"{PREFIX}/d/{d.slug}/clients", status_code=303)
