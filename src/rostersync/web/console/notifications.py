"""A district's notifications: who is told about runs (email addresses and the switches saved as
a new configuration version; webhooks shown as scheme and host only) and *send test* with how
each delivery went — over ``manage.notifications``, as ``/api/v1`` uses it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from rostersync.admin.secrets import lookup_for
from rostersync.errors import ConfigurationError, ConfigValidationError, VersionNotFound
from rostersync.manage.notifications import get_notifications, send_test, set_notifications
from rostersync.notify.webhook import redact_target
from rostersync.web.console.deps import (
    NAV_PAGES,
    PREFIX,
    SessionDep,
    actor,
    district_for,
    render,
    settings_of,
    store_of,
)
from rostersync.web.console.routing import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute)
NAV_PAGES.add("notifications")
NOTIFICATIONS = PREFIX + "/d/{district}/notifications"
SWITCHES = {
    "on_new_data": "when new data is published",
    "on_held": "when a sync is held for approval",
    "on_failure": "when a sync fails",
}


def _page(
    request: Request, session: SessionDep, district: str, *, status: int = 200, **context: Any
) -> Response:
    d = district_for(request, session, district)
    try:
        section: dict[str, Any] | None = get_notifications(store_of(request), d.id)
    except (VersionNotFound, ConfigurationError):
        section = None
    data: dict[str, Any] = {"configured": section is not None}
    if section is not None:
        hooks = [section["webhook_url"]] if section.get("webhook_url") else []
        hooks += [h["url"] for h in section.get("webhooks", [])]
        data.update(
            emails=section.get("emails", []),
            **{k: bool(section.get(k, True)) for k in SWITCHES},
            webhooks=[redact_target(u) for u in hooks],
        )
    if "deliveries" in context:
        data["deliveries"] = context["deliveries"]
    return render(
        request,
        "notifications.html",
        data,
        session=session,
        district=d,
        status=status,
        active="notifications",
        switches=SWITCHES,
        **context,
    )


@router.get(NOTIFICATIONS, include_in_schema=False)
def notifications_page(request: Request, session: SessionDep, district: str) -> Response:
    return _page(request, session, district, saved=request.query_params.get("saved"))


@router.post(NOTIFICATIONS, include_in_schema=False)
def save_recipients(
    request: Request,
    session: SessionDep,
    district: str,
    emails: Annotated[str, Form(max_length=20_000)] = "",
    on_new_data: Annotated[str, Form(max_length=5)] = "",
    on_held: Annotated[str, Form(max_length=5)] = "",
    on_failure: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Save who is emailed and about what (a new configuration version); webhooks are kept."""
    d = district_for(request, session, district, "write")
    store = store_of(request)
    section = dict(get_notifications(store, d.id))
    section["emails"] = [e.strip() for e in emails.replace(",", "\n").splitlines() if e.strip()]
    section.update(on_new_data=on_new_data == "yes", on_held=on_held == "yes")
    section["on_failure"] = on_failure == "yes"
    try:
        set_notifications(store, actor(session), d.id, section)
    except ConfigValidationError as exc:
        problems = [f"{p.path}: {p.message}" for p in exc.problems]
        return _page(request, session, district, status=422, emails_error="; ".join(problems))
    return RedirectResponse(f"{PREFIX}/d/{d.slug}/notifications?saved=1", status_code=303)


@router.post(NOTIFICATIONS + "/test", include_in_schema=False)
def send_test_message(request: Request, session: SessionDep, district: str) -> Response:
    """Send a test message to every recipient now and show how each delivery went."""
    d = district_for(request, session, district, "write")
    store, settings = store_of(request), settings_of(request)
    try:
        sent = send_test(
            store, settings, actor(session), d.id, store_lookup=lookup_for(store, settings, d.id)
        )
    except ConfigurationError as exc:
        return _page(request, session, district, status=422, test_error=exc.message)
    deliveries = [
        {
            "channel": x.channel,
            "target": x.target,
            "status": x.status,
            "http_status": x.http_status,
            "error": x.error,
        }
        for x in sent
    ]
    return _page(request, session, district, deliveries=deliveries)
