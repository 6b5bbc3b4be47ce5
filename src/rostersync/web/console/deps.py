"""What every console page shares: the signed-in admin, district access, and rendering a page as
HTML or as its JSON twin.

* **The admin.** :data:`SessionDep` resumes the browser's server-side session
  (``admin.sessions``) from its cookie; without one the route answers by sending the browser to
  the login page (:mod:`~rostersync.web.console.routing`).
* **Access.** :func:`district_for` is the one place a page gets a district: a district outside
  the admin's grants answers exactly like a missing one (404); a viewer's change is refused (403).
* **Rendering.** :func:`render` turns a page's data into its template, or into JSON when the
  request asks for it (``Accept: application/json`` or ``?format=json``): every page has a JSON
  twin built from the same service-function results.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Final, Literal

from fastapi import Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates

from rostersync.admin import authz
from rostersync.admin.accounts import Accounts
from rostersync.admin.errors import AuthenticationFailed
from rostersync.admin.sessions import Session, Sessions
from rostersync.errors import ConfigurationError
from rostersync.settings import Settings
from rostersync.store import District, Store

PREFIX: Final = "/console"
LOGIN_PATH: Final = PREFIX + "/login"
#: The session cookie (HttpOnly, SameSite=Lax; Secure over HTTPS).
SESSION_COOKIE: Final = "rostersync_session"
#: The login form's own CSRF cookie (double submit: there is no session yet).
LOGIN_COOKIE: Final = "rostersync_login"
#: The form field (or ``X-CSRF-Token`` header, for HTMX requests) carrying the CSRF token.
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "x-csrf-token"
TEMPLATE_DIR: Final = Path(__file__).parent / "templates"

#: The largest id or version number the store holds (a 32-bit integer column): a larger one in
#: an address answers 422 instead of reaching the database.
MAX_ID: Final = 2**31 - 1
RunId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="a run's id")]
RecordId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="an override's or token's id")]
VersionNumber = Annotated[int, PathParam(ge=0, le=MAX_ID, description="a version number")]

templates = Jinja2Templates(directory=TEMPLATE_DIR)
#: The district pages the navigation links to ("" is the overview): a page module adds its own
#: path when it is imported, so the console never links to a page that is not there.
NAV_PAGES: set[str] = {""}
templates.env.globals["nav_pages"] = NAV_PAGES


class ConsoleError(Exception):
    """An error page raised by a console view itself (not found, refused…)."""

    def __init__(self, status: int, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def accounts_of(request: Request) -> Accounts:
    return Accounts(store_of(request), settings_of(request))


def sessions_of(request: Request) -> Sessions:
    return Sessions(store_of(request), accounts_of(request))


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def actor(session: Session) -> str:
    """Who the audit log names for a change made in the console."""
    return f"console:{session.account.name}"


def current_session(request: Request) -> Session:
    """The browser's live session; :class:`AuthenticationFailed` sends it to the login page."""
    cached: Session | None = getattr(request.state, "console_session", None)
    if cached is not None:
        return cached
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        raise AuthenticationFailed("You are not signed in", hint="sign in")
    session = sessions_of(request).resume(session_id)
    request.state.console_session = session
    return session


SessionDep = Annotated[Session, Depends(current_session)]


def district_for(
    request: Request, session: Session, key: str, action: Literal["read", "write"] = "read"
) -> District:
    """The district ``key`` (id, name or slug) if the signed-in admin may ``action`` it."""
    missing = ConsoleError(404, f"No district {key!r}", hint="pick one in the district switcher")
    try:
        district = store_of(request).get_district(key)
    except ConfigurationError:
        raise missing from None
    if not authz.sees_district(session.account, district.id):
        raise missing
    authz.require(session.account, action, district.id)
    return district


def visible_districts(request: Request, session: Session) -> list[District]:
    """The districts the admin may see, by name (the district switcher's choices)."""
    return [
        d for d in store_of(request).list_districts() if authz.sees_district(session.account, d.id)
    ]


def wants_json(request: Request) -> bool:
    if request.query_params.get("format") == "json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def render(
    request: Request,
    template: str,
    data: dict[str, Any],
    *,
    session: Session | None = None,
    district: District | None = None,
    status: int = 200,
    **context: Any,
) -> Response:
    """The page ``template`` over ``data`` — or ``data`` itself as JSON (the page's twin)."""
    if wants_json(request):
        return JSONResponse(data, status_code=status)
    page: dict[str, Any] = {
        "session": session,
        "district": district,
        "data": data,
        "csrf_token": session.csrf_token if session is not None else "",
        "districts": visible_districts(request, session) if session is not None else [],
        **context,
    }
    return templates.TemplateResponse(request, template, page, status_code=status)
