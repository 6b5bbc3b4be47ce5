"""``GET /api/v1/events``: the events feed for apps (see :mod:`rostersync.export.events`).

The app authenticates as it does over OneRoster — ``Authorization: Bearer`` with a token from
``POST /oauth/token`` (client credentials) — and sees the events of its district its sharing
rules let it see. ``after`` is the ``next_cursor`` of the previous page; ``limit`` caps a page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from rostersync.export.events import MAX_LIMIT, CursorExpired, feed, parse_cursor
from rostersync.export.oneroster.clients import ApiClients
from rostersync.web.api_v1._core import ApiError, ApiRoute, settings_of, store_of

router = APIRouter(route_class=ApiRoute, tags=["events"])

#: Scopes that let an app read roster records (and so learn that they changed).
READ_SCOPES = frozenset({"roster-core.readonly", "roster.readonly"})

AfterQ = Annotated[
    str | None,
    Query(
        max_length=40,
        description="the next_cursor of the previous page; leave out to start from the oldest "
        "event kept",
    ),
]
LimitQ = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="most events on this page")]


def _clients(request: Request) -> ApiClients:
    found: ApiClients | None = getattr(request.app.state, "event_clients", None)
    if found is None:
        found = ApiClients(store_of(request).engine, settings_of(request).get_secret_key())
        request.app.state.event_clients = found
    return found


def _unauthenticated(message: str) -> ApiError:
    return ApiError(
        401,
        "unauthenticated",
        message,
        hint="get a token with POST /oauth/token (client credentials of the app's API client) "
        "and send it as Authorization: Bearer <token>",
    )


@router.get("/events")
def list_events(request: Request, after: AfterQ = None, limit: LimitQ = 100) -> dict[str, Any]:
    """The next created / updated / deleted records this app may see, in publish order."""
    header = request.headers.get("authorization", "")
    if not header.isascii() or header.split(" ", 1)[0].lower() != "bearer":
        raise _unauthenticated("authentication required: send Authorization: Bearer <token>")
    found = _clients(request).read_token(header[7:].strip())
    if found is None:
        raise _unauthenticated("the access token is invalid or expired")
    client, scopes = found
    if client.expired():
        raise _unauthenticated(
            f"API client {client.client_id} has expired: ask the district's administrator"
        )
    if not scopes & READ_SCOPES:
        raise ApiError(
            403,
            "forbidden",
            "the token grants no roster read scope, so no roster events",
            hint="ask for roster-core.readonly or roster.readonly",
        )
    cursor = parse_cursor(after)
    try:
        page = feed(store_of(request), client.district_id, client.sharing, cursor, limit)
    except CursorExpired as exc:
        raise ApiError(410, "cursor_expired", exc.message, hint=exc.hint) from None
    return page.as_dict()
