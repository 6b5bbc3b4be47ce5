"""The audit log of a district (filtered, exportable as CSV) and the installation's admin
accounts (operators: create, grant and revoke districts) — over ``admin.audit`` and
``admin.accounts``, the functions the CLI calls.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from rostersync.admin import authz
from rostersync.admin.accounts import ROLES
from rostersync.admin.audit import list_entries, parse_since, to_csv
from rostersync.errors import ConfigurationError
from rostersync.web.console.deps import (
    NAV_PAGES,
    PREFIX,
    ConsoleError,
    SessionDep,
    accounts_of,
    actor,
    district_for,
    render,
    store_of,
    visible_districts,
)
from rostersync.web.console.routing import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute)
NAV_PAGES.update({"audit", "admins"})
AUDIT = PREFIX + "/d/{district}/audit"
ADMINS = PREFIX + "/admins"
LIMITS = (50, 200, 1000)


def _entries(
    request: Request, session: SessionDep, district: str, since: str, action: str, limit: int
) -> tuple[Any, list[Any]]:
    d = district_for(request, session, district)
    if limit not in LIMITS:
        raise ConsoleError(422, f"Show: {limit} is not one of {', '.join(map(str, LIMITS))}")
    when = parse_since(since.strip()) if since.strip() else None
    entries = list_entries(
        store_of(request),
        caller=session.account,
        district_id=d.id,
        since=when,
        limit=limit if not action else 10_000,
    )
    if action:
        entries = [e for e in entries if action in e.action][:limit]
    return d, entries


@router.get(AUDIT, include_in_schema=False)
def audit_page(
    request: Request,
    session: SessionDep,
    district: str,
    since: Annotated[str, Query(max_length=40)] = "",
    action: Annotated[str, Query(max_length=100)] = "",
    limit: int = 50,
) -> Response:
    """Who did what in the district, newest first."""
    try:
        d, entries = _entries(request, session, district, since, action, limit)
    except ConfigurationError as exc:
        raise ConsoleError(422, exc.message.replace("--since", "Since"), hint=exc.hint) from None
    data = {
        "filters": {"since": since or None, "action": action or None, "limit": limit},
        "entries": [
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "detail": e.detail,
            }
            for e in entries
        ],
    }
    return render(
        request, "audit.html", data, session=session, district=d, active="audit", limits=LIMITS
    )


@router.get(AUDIT + ".csv", include_in_schema=False)
def audit_csv(
    request: Request,
    session: SessionDep,
    district: str,
    since: Annotated[str, Query(max_length=40)] = "",
    action: Annotated[str, Query(max_length=100)] = "",
    limit: int = 1000,
) -> Response:
    """The same entries as CSV (``detail`` as JSON in one column)."""
    try:
        d, entries = _entries(request, session, district, since, action, limit)
    except ConfigurationError as exc:
        raise ConsoleError(422, exc.message.replace("--since", "Since"), hint=exc.hint) from None
    return Response(
        to_csv(entries),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{d.slug}-audit.csv"'},
    )


def _admins_page(
    request: Request, session: SessionDep, *, status: int = 200, **context: Any
) -> Response:
    authz.require(session.account, "read", None)
    accounts = accounts_of(request)
    listed = [
        {
            "name": a.name,
            "role": a.role,
            "districts": accounts.district_names(a),
            "totp": a.totp,
            "created_at": a.created_at.isoformat() if a.created_at else None,
        }
        for a in accounts.list_accounts()
    ]
    return render(
        request,
        "admins.html",
        {"admins": listed},
        session=session,
        status=status,
        active="admins",
        roles=ROLES,
        all_districts=visible_districts(request, session),
        **context,
    )


@router.get(ADMINS, include_in_schema=False)
def admins_page(request: Request, session: SessionDep) -> Response:
    """Every admin account (operators and viewers may look; operators change)."""
    return _admins_page(request, session)


@router.post(ADMINS, include_in_schema=False)
async def create_admin(request: Request, session: SessionDep) -> Response:
    """A new admin account with its granted districts (operators)."""
    authz.require(session.account, "write", None)
    form = await request.form()
    name = str(form.get("name") or "").strip()
    role = str(form.get("role") or "")
    password = str(form.get("password") or "")
    chosen = [str(x) for x in form.getlist("districts")]
    store = store_of(request)
    try:
        granted = [store.get_district(key).id for key in chosen]
        accounts_of(request).create(
            name, role, password, actor=actor(session), districts_granted=granted
        )
    except ConfigurationError as exc:
        message = exc.message.replace("--role:", "Role:")
        return _admins_page(
            request, session, status=422, admin_error=message, form={"name": name, "role": role}
        )
    return RedirectResponse(ADMINS, status_code=303)


@router.post(ADMINS + "/{name}/grant", include_in_schema=False)
def grant(
    request: Request,
    session: SessionDep,
    name: str,
    district: Annotated[str, Form(max_length=200)],
    revoke: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Grant a district to an account, or take it away (``revoke=yes``) (operators)."""
    authz.require(session.account, "write", None)
    d = district_for(request, session, district, "write")
    try:
        if revoke == "yes":
            accounts_of(request).revoke(name, d.id, actor=actor(session))
        else:
            accounts_of(request).grant(name, d.id, actor=actor(session))
    except ConfigurationError as exc:
        return _admins_page(request, session, status=422, admin_error=exc.message)
    return RedirectResponse(ADMINS, status_code=303)
