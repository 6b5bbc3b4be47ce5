"""The account page: who is signed in, their districts, password change, the TOTP second factor
and personal API tokens (shown once) — over ``admin.accounts`` and ``admin.tokens``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from rostersync.admin.accounts import Account
from rostersync.admin.errors import AuthenticationFailed
from rostersync.admin.sessions import ABSOLUTE, Session
from rostersync.admin.tokens import Tokens
from rostersync.errors import ConfigurationError
from rostersync.web.console.deps import (
    PREFIX,
    SESSION_COOKIE,
    RecordId,
    SessionDep,
    accounts_of,
    actor,
    client_address,
    render,
    sessions_of,
)
from rostersync.web.console.routing import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute)
ACCOUNT_PATH = PREFIX + "/account"


def _data(request: Request, account: Account) -> dict[str, Any]:
    accounts = accounts_of(request)
    tokens = Tokens(accounts.store, accounts).list_tokens(account.name)
    return {
        "name": account.name,
        "role": account.role,
        "districts": accounts.district_names(account),
        "totp": account.totp,
        "tokens": [
            {
                "id": t.id,
                "name": t.name,
                "prefix": t.prefix,
                "created_at": t.created_at.isoformat(),
                "expires_at": t.expires_at.isoformat(),
                "revoked": t.revoked_at is not None,
                "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
            }
            for t in tokens
        ],
    }


def _page(request: Request, session: Session, *, status: int = 200, **context: Any) -> Response:
    return render(
        request,
        "account.html",
        _data(request, session.account),
        session=session,
        status=status,
        **context,
    )


@router.get(ACCOUNT_PATH, include_in_schema=False)
def account_page(request: Request, session: SessionDep) -> Response:
    return _page(request, session, saved=request.query_params.get("saved"))


def _check_current(request: Request, session: Session, password: str, code: str) -> None:
    accounts_of(request).authenticate(
        session.account.name,
        password,
        address=client_address(request),
        totp_code=code.strip() or None,
    )


@router.post(ACCOUNT_PATH + "/password", include_in_schema=False)
def change_password(
    request: Request,
    session: SessionDep,
    current: Annotated[str, Form(max_length=2048)] = "",
    new: Annotated[str, Form(max_length=2048)] = "",
    repeat: Annotated[str, Form(max_length=2048)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """A new password; every other session of the account ends, this one is renewed."""
    errors: dict[str, str] = {}
    if new != repeat:
        errors["repeat"] = "The two new passwords differ"
    try:
        _check_current(request, session, current, code)
    except AuthenticationFailed as exc:
        errors["current"] = exc.message
    if not errors:
        try:
            accounts_of(request).reset_password(session.account.name, new, actor=actor(session))
        except ConfigurationError as exc:
            errors["new"] = exc.message
    if errors:
        return _page(request, session, status=422, password_errors=errors)
    sessions = sessions_of(request)
    sessions.end_all(session.account.id)
    renewed = sessions.start(session.account, address=client_address(request))
    response = RedirectResponse(ACCOUNT_PATH + "?saved=password", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        renewed.id,
        max_age=int(ABSOLUTE.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post(ACCOUNT_PATH + "/totp", include_in_schema=False)
def enable_totp(
    request: Request,
    session: SessionDep,
    current: Annotated[str, Form(max_length=2048)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Set up (or replace) the TOTP second factor; its key is shown on this answer only."""
    try:
        _check_current(request, session, current, code)
    except AuthenticationFailed as exc:
        return _page(request, session, status=422, totp_error=exc.message)
    uri = accounts_of(request).enable_totp(session.account.name, actor=actor(session))
    fresh = accounts_of(request).get(session.account.name)
    return render(
        request,
        "account.html",
        {**_data(request, fresh), "totp_uri": uri},
        session=session,
        totp_uri=uri,
    )


@router.post(ACCOUNT_PATH + "/tokens", include_in_schema=False)
def create_token(
    request: Request,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)] = "",
    days: Annotated[str, Form(max_length=10)] = "90",
) -> Response:
    """A personal API token for ``/api/v1``; shown on this answer only."""
    accounts = accounts_of(request)
    try:
        if not days.strip().isdigit():
            raise ConfigurationError(f"Days: {days!r} is not a whole number of days")
        token, token_id = Tokens(accounts.store, accounts).create(
            session.account.name, name, days=int(days), actor=actor(session)
        )
    except ConfigurationError as exc:
        message = exc.message.replace("--days:", "Days:").replace("--name:", "Name:")
        return _page(request, session, status=422, token_error=message, token_name=name)
    return render(
        request,
        "account.html",
        {**_data(request, session.account), "new_token": {"id": token_id, "token": token}},
        session=session,
        new_token=token,
    )


@router.post(ACCOUNT_PATH + "/tokens/{token_id}/revoke", include_in_schema=False)
def revoke_token(request: Request, session: SessionDep, token_id: RecordId) -> Response:
    """Revoke one of the admin's own tokens."""
    accounts = accounts_of(request)
    tokens = Tokens(accounts.store, accounts)
    own = {t.id for t in tokens.list_tokens(session.account.name) if t.revoked_at is None}
    if token_id not in own:
        return _page(request, session, status=404, token_error=f"No live token {token_id}")
    tokens.revoke(token_id, actor=actor(session))
    return RedirectResponse(ACCOUNT_PATH + "?saved=token", status_code=303)
