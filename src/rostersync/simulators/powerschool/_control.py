"""Test-only control endpoints (`/_sim/...`), served only when `enable_control` is set.

``GET/POST /_sim/faults`` reads or changes the fault injection at run time (JSON object with any
:class:`~.config.Faults` field, plus ``"expire_tokens": true`` to expire every issued token);
``POST /_sim/day`` with ``{"day": N}`` moves the district to day N; ``POST /_sim/renumber`` with
``{"school": NUMBER}`` gives that school's students new IDs (a re-import overnight).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rostersync.errors import ConfigurationError

from ._http import HttpError, json_body, json_response
from .config import Faults

if TYPE_CHECKING:
    from .app import Simulator


def _faults_json(faults: Faults) -> dict[str, Any]:
    return dataclasses.asdict(faults)


def routes(sim: Simulator) -> list[Route]:
    async def faults(request: Request) -> Response:
        try:
            if request.method == "POST":
                body = await json_body(request)
                if not isinstance(body, dict):
                    raise HttpError(400, "Send a JSON object of fault settings")
                names = {f.name for f in dataclasses.fields(Faults)}
                unknown = sorted(set(body) - names - {"expire_tokens", "reset"})
                if unknown:
                    raise HttpError(400, f"Unknown fault settings: {', '.join(unknown)}")
                current = Faults() if body.get("reset") else sim.config.faults
                changes = {k: v for k, v in body.items() if k in names}
                if "error_statuses" in changes:
                    changes["error_statuses"] = tuple(changes["error_statuses"])
                sim.config.faults = dataclasses.replace(current, **changes)
                if body.get("expire_tokens"):
                    sim.expire_tokens()
            return json_response({"faults": _faults_json(sim.config.faults)})
        except HttpError as exc:
            return exc.response()
        except TypeError as exc:
            return HttpError(400, f"Bad fault settings: {exc}").response()

    async def day(request: Request) -> Response:
        try:
            body = await json_body(request)
            if not isinstance(body, dict) or not isinstance(body.get("day"), int):
                raise HttpError(400, 'Send {"day": N}')
            sim.set_day(int(body["day"]))
            d = sim.district
            return json_response(
                {"day": d.day, "date": d.date.isoformat(), "students": d.student_count}
            )
        except HttpError as exc:
            return exc.response()

    async def renumber(request: Request) -> Response:
        try:
            body = await json_body(request)
            if not isinstance(body, dict) or type(body.get("school")) is not int:
                raise HttpError(400, 'Send {"school": NUMBER} (a school number)')
            try:
                mapping = sim.renumber_students(int(body["school"]))
            except ConfigurationError as exc:
                raise HttpError(400, str(exc)) from exc
            return json_response({"school": body["school"], "renumbered": mapping.height})
        except HttpError as exc:
            return exc.response()

    return [
        Route("/_sim/faults", faults, methods=["GET", "POST"]),
        Route("/_sim/day", day, methods=["POST"]),
        Route("/_sim/renumber", renumber, methods=["POST"]),
    ]
