"""The simulator's ASGI app: OAuth, v1 resources, the schema table API, faults and control.

`create_simulator_app(district, config)` builds it; :class:`Simulator` holds the state (tokens,
cached views, fault dice) that the routes share.
"""

from __future__ import annotations

import asyncio
import math
import random
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
import polars as pl
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import _fiql, _tables, _v1
from ._http import HttpError, csv_param, int_param, json_response, paging
from .config import SimulatorConfig
from .district import District, generate_district
from .plugin import Plugin, default_plugin_xml, parse_plugin_xml

log = structlog.get_logger(__name__)
Handler = Callable[[Request], Awaitable[Response]]
EXPIRED = (
    'Bearer error="invalid_token",realm="PowerSchool",'
    'error_description="The access token has expired"'
)
#: How many rendered partitions (school x expansions) are kept.
RENDER_CACHE = 256
INVALID = (
    'Bearer error="invalid_token",realm="PowerSchool",'
    'error_description="The access token is invalid"'
)


@dataclass
class _Token:
    value: str
    expires_at: float
    uses: int = 0


def default_plugin(district: District) -> Plugin:
    """The default plugin: grants every served column of every table (FullAccess on U_ tables)."""
    grants = {t: _tables.columns(t, f) for t, f in district.tables.items()}
    return parse_plugin_xml(default_plugin_xml(grants))


class Simulator:
    """Shared state of one simulator app."""

    def __init__(self, district: District, config: SimulatorConfig) -> None:
        self.district = district
        self.config = config
        self.plugin = config.plugin or default_plugin(district)
        self.tokens: dict[str, _Token] = {}
        self.lock = threading.RLock()
        self.requests = 0
        self._views: dict[str, pl.DataFrame] = {}
        self._parts: dict[tuple[str, str], dict[Any, pl.DataFrame]] = {}
        self._revision = -1
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._rendered: OrderedDict[tuple[Any, ...], list[str]] = OrderedDict()
        self._last_call = 0.0
        self._dice = random.Random(config.faults.seed)

    # ------------------------------------------------------------------ district and views
    def set_day(self, day: int) -> None:
        """Move the served district to `day` (forward in place; backward by re-generating)."""
        with self.lock:
            d = self.district
            if day >= d.day:
                d.advance_to(day)
            else:
                fresh = generate_district(
                    d.size, seed=d.seed, students=d.students_requested, day=day
                )
                fresh.revision = d.revision + 1
                self.district = fresh

    def renumber_students(self, school_number: int) -> pl.DataFrame:
        """Give a school's students new IDs (see :meth:`District.renumber_students`)."""
        with self.lock:
            return self.district.renumber_students(school_number)

    def view(self, name: str) -> pl.DataFrame:
        with self.lock:
            if self._revision != self.district.revision:
                self._views.clear()
                self._parts.clear()
                self._rendered.clear()
                self._memo.clear()
                self._revision = self.district.revision
            if name not in self._views:
                build = getattr(_v1, f"{name}_view")
                self._views[name] = build(self.district)
            return self._views[name]

    def part(self, name: str, key: str, value: Any) -> pl.DataFrame:
        """The rows of a view whose `key` equals `value` (views partitioned once, cached)."""
        frame = self.view(name)
        with self.lock:
            parts = self._parts.get((name, key))
            if parts is None:
                parts = {
                    k[0]: v
                    for k, v in frame.partition_by(key, as_dict=True, maintain_order=True).items()
                }
                self._parts[(name, key)] = parts
        found = parts.get(value)
        return found if found is not None else frame.clear()

    def rendered(self, key: tuple[Any, ...], make: Callable[[], list[str]]) -> list[str]:
        """Rendered rows of a whole partition, kept (LRU) until the district changes."""
        with self.lock:
            hit = self._rendered.get(key)
            if hit is not None:
                self._rendered.move_to_end(key)
                return hit
        rows = make()
        with self.lock:
            self._rendered[key] = rows
            while len(self._rendered) > RENDER_CACHE:
                self._rendered.popitem(last=False)
        return rows

    def memo(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        """A value derived from the district, kept until the district changes."""
        self.view("school")  # drops everything derived from an older revision
        with self.lock:
            if key in self._memo:
                return self._memo[key]
        value = make()
        with self.lock:
            self._memo[key] = value
        return value

    def school_number(self, school_dcid: int) -> int:
        """The school number of a school DCID (404 for unknown or the graduated school)."""
        numbers: dict[int, int] = self.memo(
            ("school-numbers",),
            lambda: dict(
                zip(
                    self.district["schools"]["dcid"].to_list(),
                    self.district["schools"]["school_number"].to_list(),
                    strict=True,
                )
            ),
        )
        number = numbers.get(school_dcid)
        if number is None or number == 999_999:
            raise HttpError(404, f"School {school_dcid} not found")
        return number

    def outage(self) -> bool:
        """Whether lists and counts answer empty now (an outage, or one switched on mid-run)."""
        faults = self.config.faults
        after, lasts = faults.outage_after_requests, faults.outage_requests
        if faults.outage:
            return True
        if after is None or self.requests <= after:
            return False
        return lasts is None or self.requests <= after + lasts

    # ------------------------------------------------------------------ guard
    def check_token(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            raise HttpError(401, "Authorization required", headers={"WWW-Authenticate": INVALID})
        value = header[7:].strip()
        with self.lock:
            token = self.tokens.get(value)
            if token is None:
                raise HttpError(401, "Invalid access token", headers={"WWW-Authenticate": INVALID})
            token.uses += 1
            limit = self.config.faults.token_max_requests
            if token.expires_at <= time.time() or (limit is not None and token.uses > limit):
                self.tokens.pop(value, None)
                raise HttpError(
                    401, "The access token has expired", headers={"WWW-Authenticate": EXPIRED}
                )

    async def guard(self, request: Request, handler: Handler, *, auth: bool = True) -> Response:
        faults = self.config.faults
        try:
            if faults.latency_ms:
                await asyncio.sleep(faults.latency_ms / 1000)
            if auth:
                self._throttle()
                if faults.error_rate and self._dice.random() < faults.error_rate:
                    status = self._dice.choice(faults.error_statuses)
                    raise HttpError(
                        status, "Internal Server Error" if status == 500 else "Service Unavailable"
                    )
                self.check_token(request)
                self.requests += 1
            response = await handler(request)
        except HttpError as exc:
            return exc.response()
        except Exception:  # the real server answers 500 without a traceback; so do we
            log.exception("simulator_error", path=request.url.path)
            return HttpError(500, "Internal Server Error").response()
        if (
            faults.truncate_rate
            and request.method == "GET"
            and self._dice.random() < faults.truncate_rate
        ):
            body = bytes(response.body)
            return Response(
                body[: max(1, len(body) // 2)],
                status_code=response.status_code,
                media_type="application/json",
            )
        return response

    def _throttle(self) -> None:
        interval = self.config.faults.min_interval_ms / 1000
        if not interval:
            return
        with self.lock:
            now = time.monotonic()
            wait = self._last_call + interval - now
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                headers = {"Retry-After": str(seconds)} if self.config.throttle_retry_after else {}
                raise HttpError(
                    self.config.throttle_status,
                    f"Too many requests, wait {seconds} seconds before sending another request",
                    headers=headers,
                )
            self._last_call = now

    # ------------------------------------------------------------------ oauth
    async def access_token(self, request: Request) -> Response:
        import base64
        from urllib.parse import parse_qs

        header = request.headers.get("authorization", "")
        client_id = client_secret = None
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
                client_id, _, client_secret = decoded.partition(":")
            except (ValueError, UnicodeDecodeError):
                client_id = None
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        if client_id is None and "client_id" in form:
            client_id = form["client_id"][0]
            client_secret = form.get("client_secret", [""])[0]
        if form.get("grant_type", [""])[0] != "client_credentials":
            return json_response(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant_type must be client_credentials",
                },
                400,
            )
        if client_id != self.config.client_id or client_secret != self.config.client_secret:
            return json_response(
                {"error": "invalid_client", "error_description": "Bad client credentials"},
                self.config.bad_credentials_status,
                {"WWW-Authenticate": 'Basic realm="PowerSchool"'},
            )
        now = time.time()
        with self.lock:
            token = None
            if self.config.reuse_tokens:
                token = next((t for t in self.tokens.values() if t.expires_at > now), None)
            if token is None:
                token = _Token(str(uuid.uuid4()), now + self.config.token_lifetime)
                self.tokens[token.value] = token
        return json_response(
            {
                "access_token": token.value,
                "token_type": "Bearer",
                "expires_in": str(max(0, int(token.expires_at - now))),
            }
        )

    def expire_tokens(self) -> None:
        with self.lock:
            for token in self.tokens.values():
                token.expires_at = 0.0

    # ------------------------------------------------------------------ v1 helpers
    def v1_list(
        self,
        request: Request,
        resource: str,
        frame: pl.DataFrame,
        build: Callable[[list[dict[str, Any]], set[str], list[str]], list[dict[str, Any]]],
        *,
        expansions: tuple[str, ...] = (),
        extensions: tuple[str, ...] = (),
        count: bool = False,
        render: Callable[[pl.DataFrame, set[str], list[str]], list[str]] | None = None,
        cache_key: tuple[Any, ...] | None = None,
    ) -> Response:
        """A v1 list page (or its count): double-wrapped, one element as an object, an empty
        page without the singular key. `render` gives each row's JSON text (columnar path)."""
        plural = "staffs" if resource == "staff" else f"{resource}s"
        if self.outage():
            frame = frame.clear()
        if count:
            return json_response({"resource": {"count": frame.height}})
        page, size = paging(
            request, self.config.max_page_sizes.get(resource, 100), self.config.pagesize_over_max
        )
        wanted = set(csv_param(request, "expansions")) & set(expansions)
        ext = [e for e in csv_param(request, "extensions") if e in extensions]
        if render is not None:
            if cache_key is not None and not self.outage():
                key = (*cache_key, tuple(sorted(wanted)), tuple(ext), self._revision)
                texts = self.rendered(key, lambda: render(frame, wanted, ext))
                texts = texts[(page - 1) * size : page * size]
            else:
                texts = render(frame.slice((page - 1) * size, size), wanted, ext)
            head = orjson.dumps(
                {"@expansions": ", ".join(expansions), "@extensions": ",".join(extensions)}
            )[:-1]
            if texts:
                items = texts[0] if len(texts) == 1 else "[" + ",".join(texts) + "]"
                head += b',"' + resource.encode() + b'":' + items.encode()
            return Response(
                b'{"' + plural.encode() + b'":' + head + b"}}", media_type="application/json"
            )
        rows = frame.slice((page - 1) * size, size).to_dicts()
        body: dict[str, Any] = {
            "@expansions": ", ".join(expansions),
            "@extensions": ",".join(extensions),
        }
        if rows:
            body[resource] = _v1.one_or_many(build(rows, wanted, ext))
        return json_response({plural: body})

    def filter_q(
        self, request: Request, frame: pl.DataFrame, fields: dict[str, _fiql.Target]
    ) -> pl.DataFrame:
        q = request.query_params.get("q")
        if not q:
            return frame
        try:
            return frame.filter(
                _fiql.to_expr(
                    q,
                    fields,
                    frame.schema,
                    allow_or=self.config.fiql_or,
                    value_lists=self.config.fiql_value_lists,
                )
            )
        except _fiql.FiqlError as exc:
            raise HttpError(
                400,
                "Validation Failed",
                [{"resource": request.url.path, "field": exc.field, "code": str(exc)}],
            ) from None


def create_simulator_app(district: District, config: SimulatorConfig | None = None) -> Starlette:
    """The ASGI app of a PowerSchool simulator serving `district`."""
    from . import _routes

    sim = Simulator(district, config or SimulatorConfig())
    app = Starlette(
        routes=_routes.routes(sim),
        exception_handlers={
            404: _not_found,
            405: _not_allowed,
        },
    )
    app.state.simulator = sim
    return app


async def _not_found(request: Request, exc: Exception) -> Response:
    return HttpError(404, f"Not Found: {request.url.path}").response()


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return HttpError(405, f"Method {request.method} not allowed on {request.url.path}").response()


__all__ = ["Route", "Simulator", "create_simulator_app", "default_plugin", "int_param"]
