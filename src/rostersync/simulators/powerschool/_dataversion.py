"""Change tracking ("delta pull"): `GET /ws/dataversion/{app}/{version}` and `$dataversion`.

The data version is the length of the district's change log (days and writes append to it), so
it only grows. Keys are each table's DCID (a 1:1 extension row: its parent's DCID).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._http import HttpError, json_response

if TYPE_CHECKING:
    from .app import Simulator


def current(sim: Simulator) -> str:
    """The current data version, as the string PowerSchool sends."""
    return str(sim.district.changes.height)


def changed_keys(sim: Simulator, app: str, version: str) -> dict[str, list[int]]:
    """Subscribed table → keys changed after `version` (400 on a bad version)."""
    try:
        since = int(version)
    except ValueError:
        raise HttpError(400, f"Invalid data version {version!r}: an integer >= 0") from None
    if since < 0:
        raise HttpError(400, f"Invalid data version {version!r}: an integer >= 0")
    subscriptions = sim.config.dataversion_subscriptions
    tables: tuple[str, ...] | None = None
    if subscriptions is not None:
        if app not in subscriptions:
            raise HttpError(404, f"No data version subscription named {app}")
        tables = tuple(t.lower() for t in subscriptions[app])
    changes = sim.district.changes.slice(since)
    if tables is not None:
        changes = changes.filter(pl.col("table").is_in(list(tables)))
    grouped = changes.group_by("table", maintain_order=True).agg(pl.col("key").unique().sort())
    return {row["table"]: row["key"] for row in grouped.to_dicts()}


def routes(sim: Simulator, r: Any) -> list[Route]:
    async def dataversion(request: Request) -> Response:
        app = request.path_params["app"]
        keys = changed_keys(sim, app, request.path_params["version"])
        return json_response({"$dataversion": current(sim), "tables": keys})

    return [r("/ws/dataversion/{app}/{version}", dataversion)]
