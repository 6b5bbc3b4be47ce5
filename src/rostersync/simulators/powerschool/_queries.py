"""PowerQueries (`POST /ws/schema/query/{name}`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.routing import Route

if TYPE_CHECKING:
    from .app import Simulator


def routes(sim: Simulator, r: Any) -> list[Route]:
    return []
