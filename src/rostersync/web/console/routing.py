"""The console's route class: CSRF on every state-changing request, and errors rendered in one
place.

Every console router is built with :class:`ConsoleRoute` (``APIRouter(route_class=ConsoleRoute)``),
so no form can forget its CSRF check: a POST, PUT, PATCH or DELETE must carry the session's
token (form field ``csrf_token`` or header ``X-CSRF-Token``), or the login form's double-submit
token; without it the request is refused with 403 before the view runs, and audited. Errors the
views raise become pages (or JSON for the JSON twins): not signed in → the login page, a
district outside the admin's grants → 404, a role that does not allow it → 403.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from rostersync.admin.errors import AuthenticationFailed, LoginThrottled, PermissionDenied
from rostersync.errors import ConfigurationError, RostersyncError, VersionNotFound
from rostersync.web.console.deps import (
    CSRF_FIELD,
    CSRF_HEADER,
    LOGIN_COOKIE,
    LOGIN_PATH,
    SESSION_COOKIE,
    ConsoleError,
    client_address,
    current_session,
    render,
    store_of,
    wants_json,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: On every console answer: never framed by another site (clickjacking), never cached (pages
#: show pupils' records and, once, secrets), no referrer sent elsewhere.
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


async def _sent_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def refuse_nul(request: Request) -> None:
    """Text with a NUL character cannot be stored (PostgreSQL refuses it): a clear 422 page."""
    where = None
    if any("\x00" in str(v) for v in request.path_params.values()):
        where = "the address"
    elif any("\x00" in k + v for k, v in request.query_params.multi_items()):
        where = "the query"
    elif request.method not in SAFE_METHODS:
        body = await request.body()
        encoded = request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        )
        if b"\x00" in body or (encoded and b"%00" in body):
            where = "the form"
    if where is not None:
        raise ConsoleError(422, f"{where.capitalize()} contains a NUL character", hint="remove it")


async def check_csrf(request: Request) -> None:
    """Refuse (403, audited) a state-changing request that does not carry its CSRF token."""
    if request.method in SAFE_METHODS:
        return
    sent = await _sent_token(request)
    if request.url.path == LOGIN_PATH:
        expected = request.cookies.get(LOGIN_COOKIE)
        ok = bool(expected) and sent is not None and hmac.compare_digest(expected or "", sent)
        who = "console:anonymous"
    else:
        try:
            session = current_session(request)
        except AuthenticationFailed:
            # Not signed in: the view's own session check sends the browser to the login page.
            return
        ok = session.csrf_matches(sent)
        who = f"console:{session.account.name}"
    if not ok:
        store_of(request).audit(
            who,
            "console.csrf_refused",
            None,
            path=request.url.path,
            method=request.method,
            address=client_address(request),
            token="missing" if not sent else "wrong",
        )
        raise ConsoleError(
            403,
            "This form was refused: it did not carry this session's security token",
            hint="reload the page and submit the form again",
        )


def error_page(request: Request, exc: Exception) -> Response | None:
    """The answer for an error a view raised; None for an error nobody expected."""
    if isinstance(exc, LoginThrottled):
        return _page(request, 429, exc.message, exc.hint, {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, AuthenticationFailed):
        if wants_json(request):
            return JSONResponse(
                {"error": {"code": "unauthenticated", "message": exc.message}}, status_code=401
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response = RedirectResponse(f"{LOGIN_PATH}?next={quote(target, safe='')}", 303)
        if request.cookies.get(SESSION_COOKIE):
            response.delete_cookie(SESSION_COOKIE, path="/")
            response.headers.append("x-session-ended", "1")
        return response
    if isinstance(exc, ConsoleError):
        return _page(request, exc.status, exc.message, exc.hint)
    if isinstance(exc, PermissionDenied):
        return _page(request, 403, exc.message, exc.hint)
    if isinstance(exc, VersionNotFound):
        return _page(request, 404, exc.message, exc.hint)
    if isinstance(exc, ConfigurationError):
        return _page(request, 422, exc.message, exc.hint)
    if isinstance(exc, RostersyncError):
        return _page(request, 400, exc.message, exc.hint)
    if isinstance(exc, RequestValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}"
            for e in exc.errors()
        )
        return _page(request, 422, f"The form is not complete or not valid ({problems})", None)
    if isinstance(exc, StarletteHTTPException):
        return _page(request, exc.status_code, str(exc.detail), None)
    return None


def _page(
    request: Request,
    status: int,
    message: str,
    hint: str | None,
    headers: dict[str, str] | None = None,
) -> Response:
    try:
        session = current_session(request)
    except RostersyncError:
        session = None
    data = {"error": {"status": status, "message": message, "hint": hint}}
    response = render(request, "error.html", data, session=session, status=status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


class ConsoleRoute(APIRoute):
    """A console route: CSRF checked before the view, errors answered as pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                await refuse_nul(request)
                await check_csrf(request)
                answer = await handler(request)
            except Exception as exc:
                found = error_page(request, exc)
                if found is None:
                    raise
                answer = found
            for key, value in HEADERS.items():
                answer.headers.setdefault(key, value)
            return answer

        return handle
