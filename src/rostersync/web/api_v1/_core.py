"""What every management API route shares: the error shape, the caller, and district access.

* **Errors.** Every error answer is ``{"error": {"code", "message", "hint"?, "problems"?}}``;
  :class:`ApiRoute` turns the project's errors (and the framework's validation errors) into it,
  so a route never builds an error response itself.
* **The caller.** :func:`current_caller` authenticates the ``Authorization: Bearer rst_…``
  personal token (``admin.tokens``); failed attempts are counted per client address by the
  login backoff, which slows guessing and always ends on its own; a valid token is never
  made to wait for others' failures.
* **Access.** :func:`district_for` is the one place a route gets a district: out-of-scope
  districts are reported exactly as missing ones (404), a viewer's write is refused (403).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from rostersync.admin import authz
from rostersync.admin.accounts import Account, Accounts
from rostersync.admin.errors import AuthenticationFailed, LoginThrottled, PermissionDenied
from rostersync.admin.ratelimit import LoginBackoff
from rostersync.admin.tokens import PREFIX, Tokens
from rostersync.errors import (
    ConfigurationError,
    ConfigValidationError,
    PublishConflict,
    RostersyncError,
    RunHeld,
    RunInProgress,
    StoreUnavailable,
    VersionNotFound,
)
from rostersync.settings import Settings
from rostersync.store import District, Store
from rostersync.sync.changesets import NothingToRevoke

#: The account name the login backoff counts token failures under (per client address).
TOKEN_BACKOFF_ACCOUNT = "api-token"  # noqa: S105 - a name, not a password
#: The largest id or version number the store can hold (a 32-bit integer column).
MAX_ID = 2**31 - 1
RunId = Annotated[int, Path(ge=1, le=MAX_ID, description="a run's id")]
OverrideId = Annotated[int, Path(ge=1, le=MAX_ID, description="a hold override's id")]
Version = Annotated[int, Path(ge=0, le=MAX_ID, description="a version number")]
#: The two ends of a diff (of configuration versions or roster versions).
OlderVersion = Annotated[int, Query(ge=0, le=MAX_ID, description="the older version")]
NewerVersion = Annotated[int, Query(ge=0, le=MAX_ID, description="the newer version")]
#: The largest request body the management API reads.
MAX_BODY_BYTES = 1024 * 1024


# --- the error shape --------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str
    message: str
    hint: str | None = None
    problems: list[dict[str, str]] | None = None


class ErrorBody(BaseModel):
    """Every error answer of the management API."""

    error: ErrorDetail


class ApiError(Exception):
    """An error answer raised by the API layer itself (not found, bad request…)."""

    def __init__(self, status: int, code: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.hint = hint


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    hint: str | None = None,
    problems: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    detail: dict[str, Any] = {"code": code, "message": message}
    if hint:
        detail["hint"] = hint
    if problems is not None:
        detail["problems"] = problems
    return JSONResponse({"error": detail}, status_code=status, headers=headers)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        where, rest = parts[0], parts[1:]
        return where + ("." + ".".join(rest) if rest else "")
    return ".".join(parts)


def _validation_response(exc: RequestValidationError) -> JSONResponse:
    problems = []
    for err in exc.errors():
        kind = str(err.get("type", ""))
        message = str(err.get("msg", "invalid value"))
        if kind == "json_invalid":
            message = f"the body is not valid JSON ({err.get('ctx', {}).get('error', message)})"
        problems.append({"path": _location(err.get("loc", ())), "message": message})
    malformed = any(p["message"].startswith("the body is not valid JSON") for p in problems)
    return error_response(
        400 if malformed else 422,
        "malformed_json" if malformed else "invalid_request",
        problems[0]["message"] if malformed else f"{len(problems)} problem(s) in the request",
        problems=problems,
        hint="send a JSON body with Content-Type: application/json" if malformed else None,
    )


def error_for(exc: Exception) -> JSONResponse | None:
    """The answer for an error a route raised; None for an error nobody expected."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.code, exc.message, hint=exc.hint)
    if isinstance(exc, RequestValidationError):
        return _validation_response(exc)
    if isinstance(exc, StarletteHTTPException):
        return error_response(exc.status_code, "http_error", str(exc.detail))
    if not isinstance(exc, RostersyncError):
        return None
    hint = exc.hint
    if isinstance(exc, LoginThrottled):
        return error_response(
            429,
            "too_many_failures",
            exc.message,
            hint=hint,
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, AuthenticationFailed):
        return error_response(
            401, "unauthenticated", exc.message, hint=hint, headers={"WWW-Authenticate": "Bearer"}
        )
    if isinstance(exc, PermissionDenied):
        return error_response(403, "forbidden", exc.message, hint=hint)
    if isinstance(exc, ConfigValidationError):
        return error_response(
            422,
            "invalid_configuration",
            f"{len(exc.problems)} problem(s) in the configuration",
            problems=[{"path": p.path, "message": p.message} for p in exc.problems],
            hint="fix every problem listed and send the configuration again",
        )
    if isinstance(exc, VersionNotFound):
        return error_response(404, "not_found", exc.message, hint=hint)
    if isinstance(exc, PublishConflict | RunInProgress | RunHeld | NothingToRevoke):
        return error_response(409, "conflict", exc.message, hint=hint)
    if isinstance(exc, StoreUnavailable):
        return error_response(503, "unavailable", exc.message, hint=hint)
    if isinstance(exc, ConfigurationError):
        field, message = api_field(exc)
        problems = None if field is None else [{"path": field, "message": message}]
        shown = message if field is None else f"{field}: {message}"
        return error_response(422, "invalid_input", shown, hint=hint, problems=problems)
    return error_response(400, "failed", exc.message, hint=hint)


def api_field(exc: ConfigurationError) -> tuple[str | None, str]:
    """The request field a service error is about, and its message without the CLI's option.

    Service functions name the command line's option (``setting="--grant"``, message
    ``"--grant: …"``); the API's fields carry the same names without the dashes, so an API
    caller is told about ``grant``, never about an option it has no way to pass.
    """
    setting, message = exc.setting, exc.message
    if setting is None or not setting.startswith("--"):
        return None, message
    field = setting[2:].replace("-", "_")
    for prefix in (f"{setting}: ", f"{setting} "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
            break
    return field, message.replace(setting, field)


async def _refuse_nul(request: Request) -> None:
    """Text with a NUL character cannot be stored (PostgreSQL refuses it): a clear 422."""
    where = None
    if any("\x00" in str(v) for v in request.path_params.values()):
        where = "the path"
    elif any("\x00" in k + v for k, v in request.query_params.multi_items()):
        where = "the query"
    elif request.method in {"POST", "PUT", "PATCH"}:
        body = await request.body()
        if b"\x00" in body or b"\\u0000" in body:
            where = "the body"
    if where is not None:
        raise ApiError(422, "invalid_input", f"{where} contains a NUL character", hint="remove it")


class ApiRoute(APIRoute):
    """A route whose errors are answered in the management API's one error shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                await _refuse_nul(request)
                return await handler(request)
            except Exception as exc:
                answer = error_for(exc)
                if answer is None:
                    raise
                return answer

        return handle


# --- the caller ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who is calling: the account (role, granted districts) and its audit actor name."""

    account: Account

    @property
    def actor(self) -> str:
        return f"api:{self.account.name}"


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="personal token",
    description="A personal API token (`rostersync admins token-create`): `rst_…`",
)


def current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The authenticated caller; 401 without a valid token, 429 while an address must wait."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationFailed(
            "Missing API token",
            hint=f"send the header 'Authorization: Bearer {PREFIX}…' with a personal token",
        )
    store = store_of(request)
    address = client_address(request)
    backoff = LoginBackoff(store.engine)
    tokens = Tokens(store, Accounts(store, settings_of(request)))
    try:
        account = tokens.authenticate(credentials.credentials.strip())
    except AuthenticationFailed as exc:
        # Only failures wait: a valid token (unguessable) is never refused for what others
        # sent from the same address, so a guesser cannot lock a real caller out.
        backoff.check(TOKEN_BACKOFF_ACCOUNT, address)
        wait = backoff.failed(TOKEN_BACKOFF_ACCOUNT, address)
        store.audit(
            "api:anonymous",
            "api.auth_failed",
            None,
            address=address,
            reason=exc.message,
            wait_seconds=round(wait.total_seconds()),
        )
        raise
    return Caller(account)


CallerDep = Annotated[Caller, Depends(current_caller)]


# --- access -----------------------------------------------------------------------------------


def district_for(
    store: Store, caller: Caller, key: str, action: Literal["read", "write"]
) -> District:
    """The district ``key`` (id, name or slug) if ``caller`` may ``action`` it.

    Not found (404) when it does not exist *or* is outside the caller's districts, with the same
    message; 403 when the caller may see it but not change it.
    """
    missing = ApiError(404, "not_found", f"No district {key!r}", hint="see GET /api/v1/districts")
    if key.strip().isdigit() and int(key) > MAX_ID:
        raise missing  # no such id can exist (and the database would refuse to compare it)
    try:
        district = store.get_district(key)
    except ConfigurationError:
        raise missing from None
    if not authz.sees_district(caller.account, district.id):
        raise missing
    authz.require(caller.account, action, district.id)
    return district


def require_installation(caller: Caller, action: Literal["read", "write"]) -> None:
    """Installation-wide actions (creating or deleting a district): operators only."""
    authz.require(caller.account, action, None)


class BodyLimit:
    """ASGI middleware: management API bodies over ``limit`` bytes get a 413, unread."""

    def __init__(self, app: Any, limit: int = MAX_BODY_BYTES, prefix: str = "/api/v1") -> None:
        self.app = app
        self.limit = limit
        self.prefix = prefix

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any
    ) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not (
            path == self.prefix or path.startswith(self.prefix + "/")
        ):
            await self.app(scope, receive, send)
            return
        too_big = error_response(
            413,
            "body_too_large",
            f"The request body is larger than {self.limit} bytes",
            hint="send a smaller body",
        )
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        declared = headers.get("content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = -1
            if size > self.limit:
                await too_big(scope, receive, send)
                return
        if declared is not None or "transfer-encoding" not in headers:
            await self.app(scope, receive, send)
            return
        # A chunked body: read it (up to the limit) before the app sees it.
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.limit:
                await too_big(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
