"""Signing in and out of the console: the login form (name, password, and the TOTP code when the
account has one), the session cookie, and logout.

Login goes through ``Accounts.authenticate`` — the same backoff (``admin/ratelimit.py``) and
audit as every other sign-in — then starts a new server-side session, ending the one the browser
had (the id is rotated at every login). The form is protected by a double-submit token, since
there is no session yet to bind it to.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from rostersync.admin.errors import AuthenticationFailed, LoginThrottled
from rostersync.admin.sessions import ABSOLUTE
from rostersync.web.console.deps import (
    LOGIN_COOKIE,
    LOGIN_PATH,
    PREFIX,
    SESSION_COOKIE,
    SessionDep,
    accounts_of,
    client_address,
    render,
    sessions_of,
    store_of,
)
from rostersync.web.console.routing import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute)


def safe_next(target: str | None) -> str:
    """Where to go after login: a console path only (never another host)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//"):
        return target
    return PREFIX + "/"


def _login_page(
    request: Request,
    *,
    status: int = 200,
    error: str | None = None,
    hint: str | None = None,
    name: str = "",
    next_path: str | None = None,
) -> Response:
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        {"signed_in": False, "error": error},
        status=status,
        login_token=token,
        error=error,
        hint=hint,
        name=name,
        next_path=safe_next(next_path),
        ended=request.query_params.get("ended") is not None,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        path=LOGIN_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get(LOGIN_PATH, include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, next_path=next)


@router.post(LOGIN_PATH, include_in_schema=False)
def login(
    request: Request,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=2048)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if not name.strip() or not password:
        return _login_page(
            request, status=422, error="Enter your name and password", name=name, next_path=next
        )
    address = client_address(request)
    try:
        account = accounts_of(request).authenticate(
            name.strip(), password, address=address, totp_code=code.strip() or None
        )
    except LoginThrottled as exc:
        response = _login_page(
            request, status=429, error=exc.message, hint=exc.hint, name=name, next_path=next
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except AuthenticationFailed as exc:
        return _login_page(
            request,
            status=401,
            error=exc.message,
            hint="an account with a second factor also needs the authenticator's code",
            name=name,
            next_path=next,
        )
    session = sessions_of(request).start(
        account, address=address, replacing=request.cookies.get(SESSION_COOKIE)
    )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session.id,
        max_age=int(ABSOLUTE.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN_PATH)
    return response


@router.post(PREFIX + "/logout", include_in_schema=False)
def logout(request: Request, session: SessionDep) -> Response:
    sessions_of(request).end(session.id)
    store_of(request).audit(
        f"console:{session.account.name}",
        "admin.logout",
        None,
        address=client_address(request),
    )
    response = RedirectResponse(LOGIN_PATH + "?ended=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
