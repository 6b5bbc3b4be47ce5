"""The OneRoster Gradebook service: 1.2 under ``/ims/oneroster/gradebook/v1p2`` (categories, line
items, results, score scales; GET, PUT, DELETE and the bulk POSTs) and 1.1's line items, results
and categories under ``/ims/oneroster/v1p1``.

As in the rostering provider, each endpoint is a row of a table (path, object type, how the
path narrows the rows, which parents must exist) served by one handler per method, so
authentication, scopes (``gradebook.readonly`` / ``gradebook-core.readonly`` to read,
``gradebook.createput``, ``gradebook.createpost``, ``gradebook.delete``), sharing rules, paging,
filters and error bodies are the same everywhere. A write is checked whole — its shape, then
what it refers to — and stored in one transaction, or refused with a 400 whose description
names every bad field; nothing partial is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.concurrency import run_in_threadpool

from rostersync.clock import utcnow
from rostersync.export.oneroster.api import (
    BASE_PATHS,
    Authenticated,
    Provider,
    _authenticate,
)
from rostersync.export.oneroster.catalog import Version
from rostersync.export.oneroster.clients import ClientExpired
from rostersync.export.oneroster.filtering import (
    FilterError,
    Target,
    compile_filter,
    parse_filter,
)
from rostersync.export.oneroster.gradebook_model import SHAPES, Kind, parse, serve
from rostersync.export.oneroster.gradebook_rules import check_references, roster_row
from rostersync.export.oneroster.gradebook_store import (
    FILTERABLE,
    Stored,
    mark_deleted,
    read,
    results_of_line_item,
    upsert,
)
from rostersync.export.oneroster.protocol import OneRosterError, link_header, parse_paging
from rostersync.export.oneroster.query import Scope
from rostersync.export.oneroster.sharing import SharingRules
from rostersync.logs import get_logger
from rostersync.store.schema import gradebook_objects, roster_tables

log = get_logger("oneroster.gradebook")
GRADEBOOK_BASE = "/ims/oneroster/gradebook/v1p2"
BASES: dict[Version, str] = {"1.2": GRADEBOOK_BASE, "1.1": BASE_PATHS["1.1"]}
Method = Literal["GET", "PUT", "DELETE", "POST"]
SCOPE_NEEDS: dict[Method, tuple[str, ...]] = {
    "GET": ("gradebook.readonly", "gradebook-core.readonly"),
    "PUT": ("gradebook.createput",),
    "POST": ("gradebook.createpost",),
    "DELETE": ("gradebook.delete",),
}
g = gradebook_objects.c
Narrow = Callable[[Mapping[str, str]], list[sa.ColumnElement[bool]]]


def _eq(column: str, param: str) -> Narrow:
    return lambda p: [g[column] == p[param]]


def _both(*narrows: Narrow) -> Narrow:
    return lambda p: [c for n in narrows for c in n(p)]


def _categories_of_class(p: Mapping[str, str]) -> list[sa.ColumnElement[bool]]:
    used = sa.select(g.categorySourcedId).where(
        g.kind == "lineItems", g.classSourcedId == p["cid"], g.status == "active"
    )
    return [g.sourcedId.in_(used)]


def _scales_of_school(p: Mapping[str, str]) -> list[sa.ColumnElement[bool]]:
    c = roster_tables["classes"].c
    classes = sa.select(c.sourcedId).where(c.valid_to.is_(None), c.schoolSourcedId == p["sid"])
    return [g.classSourcedId.in_(classes)]


@dataclass(frozen=True)
class Endpoint:
    """One gradebook path: the object type it serves, whether it names one object, how the path
    narrows a collection, which parents (param, roster entity or gradebook kind) must exist,
    the versions it exists in and the methods besides GET."""

    path: str
    kind: Kind
    single: bool = False
    narrow: Narrow | None = None
    parents: tuple[tuple[str, str], ...] = ()
    versions: tuple[Version, ...] = ("1.1", "1.2")
    writes: tuple[Method, ...] = ()


CLASS = ("cid", "classes")
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("/categories", "categories"),
    Endpoint("/categories/{id}", "categories", True, writes=("PUT", "DELETE")),
    Endpoint("/lineItems", "lineItems"),
    Endpoint("/lineItems/{id}", "lineItems", True, writes=("PUT", "DELETE")),
    Endpoint("/results", "results"),
    Endpoint("/results/{id}", "results", True, writes=("PUT", "DELETE")),
    Endpoint("/scoreScales", "scoreScales", versions=("1.2",)),
    Endpoint("/scoreScales/{id}", "scoreScales", True, versions=("1.2",), writes=("PUT", "DELETE")),
    Endpoint(
        "/classes/{cid}/lineItems",
        "lineItems",
        narrow=_eq("classSourcedId", "cid"),
        parents=(CLASS,),
        writes=("POST",),
    ),
    Endpoint(
        "/classes/{cid}/lineitems",
        "lineItems",
        narrow=_eq("classSourcedId", "cid"),
        parents=(CLASS,),
        versions=("1.1",),
    ),
    Endpoint(
        "/classes/{cid}/results",
        "results",
        narrow=_eq("classSourcedId", "cid"),
        parents=(CLASS,),
    ),
    Endpoint(
        "/classes/{cid}/lineItems/{lid}/results",
        "results",
        narrow=_both(_eq("classSourcedId", "cid"), _eq("lineItemSourcedId", "lid")),
        parents=(CLASS, ("lid", "gradebook:lineItems")),
    ),
    Endpoint(
        "/classes/{cid}/students/{sid}/results",
        "results",
        narrow=_both(_eq("classSourcedId", "cid"), _eq("studentSourcedId", "sid")),
        parents=(CLASS, ("sid", "users")),
    ),
    Endpoint(
        "/classes/{cid}/categories",
        "categories",
        narrow=_categories_of_class,
        parents=(CLASS,),
        versions=("1.2",),
    ),
    Endpoint(
        "/classes/{cid}/scoreScales",
        "scoreScales",
        narrow=_eq("classSourcedId", "cid"),
        parents=(CLASS,),
        versions=("1.2",),
    ),
    Endpoint(
        "/schools/{sid}/scoreScales",
        "scoreScales",
        narrow=_scales_of_school,
        parents=(("sid", "orgs"),),
        versions=("1.2",),
    ),
    Endpoint(
        "/schools/{sid}/lineItems",
        "lineItems",
        narrow=_eq("schoolSourcedId", "sid"),
        parents=(("sid", "orgs"),),
        versions=("1.2",),
        writes=("POST",),
    ),
    Endpoint(
        "/lineItems/{lid}/results",
        "results",
        narrow=_eq("lineItemSourcedId", "lid"),
        parents=(("lid", "gradebook:lineItems"),),
        versions=("1.2",),
        writes=("POST",),
    ),
)


# -- reading ----------------------------------------------------------------------------------


def _visible(kind: Kind, sharing: SharingRules, district_id: int) -> list[sa.ColumnElement[bool]]:
    """Gradebook rows a client may see: those of classes (and students) it may see."""
    if sharing.cache_key() == SharingRules.everything().cache_key() or kind == "categories":
        return []
    conds: list[sa.ColumnElement[bool]] = []
    for entity, column in (("classes", "classSourcedId"), ("users", "studentSourcedId")):
        if entity == "users" and kind != "results":
            continue
        t = roster_tables[entity]
        ids = sa.select(t.c.sourcedId).where(
            t.c.district_id == district_id,
            t.c.valid_to.is_(None),
            sharing.sql_condition(entity, roster_tables, district_id),
        )
        conds.append(g[column].in_(ids))
    return conds


def _resolve(name: str) -> Target | None:
    found = FILTERABLE.get(name)
    if found is None:
        return None
    column, kind = found
    return Target(g[column], "datetime" if kind == "datetime" else "text")


def _filter(text: str | None) -> list[sa.ColumnElement[bool]]:
    if not text:
        return []
    try:
        return [compile_filter(parse_filter(text), _resolve)]
    except FilterError as exc:
        where = f" at position {exc.position}" if exc.position is not None else ""
        raise OneRosterError(
            "invalid_filter_field",
            f"filter: {exc.message}{where} (filterable: {', '.join(FILTERABLE)})",
        ) from exc


def _project(objects: list[dict[str, Any]], fields: str | None, kind: Kind) -> list[dict[str, Any]]:
    if not fields:
        return objects
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    allowed = {"sourcedId", "status", "dateLastModified", "metadata"} | {
        f.name for f in SHAPES[kind].fields
    }
    unknown = [w for w in wanted if w not in allowed]
    if unknown:
        raise OneRosterError(
            "invalid_selection_field", f"unknown field(s) in fields: {', '.join(unknown)}"
        )
    return [{k: o[k] for k in wanted if k in o} for o in objects]


@dataclass
class Call:
    """One request, authenticated: who, on which connection, with which base URLs."""

    request: Request
    version: Version
    auth: Authenticated
    bases: dict[str, str]

    @property
    def scope(self) -> Scope:
        client = self.auth[0]
        return Scope(client.district_id, client.sharing)

    def serve(self, stored: Stored) -> dict[str, Any]:
        return serve(
            SHAPES[stored.kind],
            stored.sourced_id,
            stored.status,
            stored.modified,
            stored.body,
            self.bases,
            self.version,
        )


def _check_parents(conn: sa.Connection, ep: Endpoint, call: Call) -> None:
    path = call.request.path_params
    for param, target in ep.parents:
        sid = path[param]
        if target.startswith("gradebook:"):
            kind: Kind = target.split(":", 1)[1]  # type: ignore[assignment]
            visible = _visible(kind, call.scope.sharing, call.scope.district_id)
            alive = [g.sourcedId == sid, g.status == "active", *visible]
            if read(conn, call.scope.district_id, kind, alive, limit=1)[1]:
                continue
        elif roster_row(conn, target, sid, call.scope) is not None:
            continue
        raise OneRosterError("unknownobject", f"no {target.split(':')[-1]} with sourcedId {sid!r}")


def _get(conn: sa.Connection, ep: Endpoint, call: Call) -> Response:
    request, district = call.request, call.scope.district_id
    visible = _visible(ep.kind, call.scope.sharing, district)
    shape = SHAPES[ep.kind]
    q = request.query_params
    if ep.single:
        unexpected = {k for k in q if k != "fields" and not k.startswith("oauth_")}
        if unexpected:
            raise OneRosterError(
                "invaliddata", "a single-object request accepts only the fields parameter"
            )
        sid = request.path_params["id"]
        rows, _ = read(
            conn, district, ep.kind, [g.sourcedId == sid, g.status == "active", *visible]
        )
        if not rows:
            raise OneRosterError("unknownobject", f"no {shape.single} with sourcedId {sid!r}")
        obj = _project([call.serve(rows[0])], q.get("fields"), ep.kind)[0]
        return Response(orjson.dumps({shape.single: obj}), media_type="application/json")
    _check_parents(conn, ep, call)
    limit, offset = parse_paging(q.get("limit"), q.get("offset"))
    order = (q.get("orderBy") or "asc").lower()
    if order not in ("asc", "desc"):
        raise OneRosterError("invaliddata", "orderBy must be asc or desc")
    sort = q.get("sort") or None
    order_by = None
    if sort is not None:
        found = FILTERABLE.get(sort)
        if found is None:
            raise OneRosterError(
                "invalid_sort_field", f"sort: cannot sort on {sort!r} ({', '.join(FILTERABLE)})"
            )
        order_by = g[found[0]]
    text = q.get("filter")
    conds = [*visible, *_filter(text)]
    if not text or "status" not in text:
        conds.append(g.status == "active")  # deleted objects are listed only when asked for
    if ep.narrow is not None:
        conds += ep.narrow(request.path_params)
    rows, total = read(
        conn,
        district,
        ep.kind,
        conds,
        order_by=order_by,
        descending=order == "desc",
        limit=limit,
        offset=offset,
    )
    objects = _project([call.serve(r) for r in rows], q.get("fields"), ep.kind)
    keep = {k: v for k, v in q.items() if k not in ("limit", "offset")}
    url = str(request.url).split("?", 1)[0]
    headers = {
        "X-Total-Count": str(total),
        "Link": link_header(url, keep, total, limit, offset),
    }
    body = orjson.dumps({shape.kind: objects})
    return Response(body, media_type="application/json", headers=headers)


# -- writing ----------------------------------------------------------------------------------


def _checked(
    conn: sa.Connection, call: Call, kind: Kind, raw: Any, sourced_id: str, where: str
) -> dict[str, Any]:
    """The stored body of one written object, or the request refused naming every problem."""
    shape = SHAPES[kind]
    body, found = parse(shape, raw, sourced_id, call.version)
    problems = [p.replace(shape.single, where, 1) for p in found]
    problems += check_references(conn, kind, body, call.scope, where)
    if problems:
        raise OneRosterError("invaliddata", "; ".join(problems))
    return body


def _json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise OneRosterError("invaliddata", f"the request body is not JSON: {exc}") from None


def _put(conn: sa.Connection, ep: Endpoint, call: Call, raw: bytes) -> Response:
    shape = SHAPES[ep.kind]
    data = _json(raw)
    if isinstance(data, dict) and set(data) == {shape.single}:
        data = data[shape.single]  # the spec's envelope; a bare object is accepted too
    sid = call.request.path_params["id"]
    body = _checked(conn, call, ep.kind, data, sid, shape.single)
    created = upsert(
        conn, call.scope.district_id, ep.kind, sid, body, call.auth[0].client_id, utcnow()
    )
    stored = read(conn, call.scope.district_id, ep.kind, [g.sourcedId == sid])[0][0]
    return Response(
        orjson.dumps({shape.single: call.serve(stored)}),
        status_code=201 if created else 200,
        media_type="application/json",
    )


def _delete(conn: sa.Connection, ep: Endpoint, call: Call) -> Response:
    district, sid = call.scope.district_id, call.request.path_params["id"]
    visible = _visible(ep.kind, call.scope.sharing, district)
    found = read(conn, district, ep.kind, [g.sourcedId == sid, g.status == "active", *visible])[0]
    if not found:
        raise OneRosterError("unknownobject", f"no {SHAPES[ep.kind].single} with sourcedId {sid!r}")
    now = utcnow()
    mark_deleted(conn, district, ep.kind, [sid], now)
    if ep.kind == "lineItems":  # its results go with it
        mark_deleted(conn, district, "results", results_of_line_item(conn, district, sid), now)
    return Response(status_code=204)


def _post(conn: sa.Connection, ep: Endpoint, call: Call, raw: bytes) -> Response:
    data = _json(raw)
    items = data.get(ep.kind) if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise OneRosterError("invaliddata", f'the body must be {{"{ep.kind}": [...]}}, not empty')
    path = call.request.path_params
    fill = {"cid": "class", "sid": "school", "lid": "lineItem"}
    pairs, seen, problems = [], set(), []
    checked: list[tuple[str, dict[str, Any]]] = []
    for i, item in enumerate(items):
        where = f"{ep.kind}[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be a JSON object")
            continue
        sid = str(item.get("sourcedId") or "")
        if not sid:
            problems.append(f"{where}.sourcedId: is required")
            continue
        if sid in seen:
            problems.append(f"{where}.sourcedId: {sid!r} appears twice")
            continue
        seen.add(sid)
        for param, name in fill.items():
            if param in path:
                given = (
                    (item.get(name) or {}).get("sourcedId")
                    if isinstance(item.get(name), dict)
                    else None
                )
                if given not in (None, path[param]):
                    problems.append(
                        f"{where}.{name}: {given!r} differs from the path's {path[param]!r}"
                    )
                item = {**item, name: {"sourcedId": path[param]}}
        try:
            checked.append((sid, _checked(conn, call, ep.kind, item, sid, where)))
        except OneRosterError as exc:
            problems.append(exc.description)
    if problems:
        raise OneRosterError("invaliddata", "; ".join(problems))
    now = utcnow()
    for sid, body in checked:
        upsert(conn, call.scope.district_id, ep.kind, sid, body, call.auth[0].client_id, now)
        pairs.append({"suppliedSourcedId": sid, "allocatedSourcedId": sid})
    return Response(
        orjson.dumps({"sourcedIdPairs": pairs}), status_code=201, media_type="application/json"
    )


# -- routing ----------------------------------------------------------------------------------


def _answer(
    request: Request, ep: Endpoint, method: Method, version: Version, prov: Provider, raw: bytes
) -> Response:
    base = str(request.base_url).rstrip("/")
    bases = {
        "rostering": base + BASE_PATHS[version],
        "gradebook": base + BASES[version],
    }
    write = method != "GET"
    engine = prov.clients.engine if write else prov.engine
    for attempt in range(2):
        conn = engine.connect()
        try:
            try:
                auth = _authenticate(request, version, prov, conn)
            except ClientExpired as exc:
                raise OneRosterError("unauthorisedrequest", str(exc)) from None
            needs = SCOPE_NEEDS[method]
            if not auth[1] & set(needs):
                raise OneRosterError(
                    "forbidden", f"this request needs the scope {' or '.join(needs)}"
                )
            for name, value in request.path_params.items():
                if "\x00" in value:
                    raise OneRosterError(
                        "unknownobject", f"{name}: no object has a sourcedId with NUL"
                    )
            call = Call(request, version, auth, bases)
            if conn.in_transaction():
                conn.commit()
            with conn.begin():
                if method == "GET":
                    return _get(conn, ep, call)
                if method == "PUT":
                    return _put(conn, ep, call, raw)
                if method == "POST":
                    return _post(conn, ep, call, raw)
                return _delete(conn, ep, call)
        except IntegrityError:
            if attempt:  # two writers created the same object at once: the retry updates it
                raise
        finally:
            conn.close()
    raise AssertionError("unreachable")


def _route(
    ep: Endpoint, method: Method, version: Version, prov: Provider
) -> Callable[[Request], Any]:
    async def handler(request: Request) -> Response:
        raw = await request.body() if method in ("PUT", "POST") else b""
        try:
            return await run_in_threadpool(_answer, request, ep, method, version, prov, raw)
        except DBAPIError as exc:
            log.warning("gradebook.store_error", path=request.url.path, error=type(exc).__name__)
            raise OneRosterError(
                "internal_server_error", "the gradebook store could not answer this request"
            ) from exc

    handler.__name__ = f"gradebook_{version.replace('.', '')}_{method.lower()}_{ep.path}"
    return handler


def build_router(version: Version, prov: Provider) -> APIRouter:
    """Every gradebook endpoint of one OneRoster version."""
    router = APIRouter(prefix=BASES[version], tags=[f"OneRoster {version} Gradebook"])
    for ep in ENDPOINTS:
        if version not in ep.versions:
            continue
        methods: Sequence[Method] = (
            "GET",
            *(w for w in ep.writes if w != "POST" or version == "1.2"),
        )
        for method in methods:
            handler = _route(ep, method, version, prov)
            for path in (ep.path, ep.path + "/"):
                router.add_api_route(path, handler, methods=[method], include_in_schema=False)
    return router


def install(app: FastAPI, prov: Provider) -> None:
    """Mount the gradebook service of both versions (errors are rendered by the provider's
    handler, :func:`rostersync.export.oneroster.api.install`); any other path or method under
    the 1.2 gradebook base answers the spec's 404 payload."""
    for version in ("1.2", "1.1"):
        app.include_router(build_router(version, prov))

    async def unknown(request: Request) -> Response:
        raise OneRosterError(
            "unknownobject",
            f"no such OneRoster 1.2 gradebook endpoint: {request.method} {request.url.path}",
        )

    app.add_api_route(
        GRADEBOOK_BASE + "/{rest:path}",
        unknown,
        methods=["GET", "PUT", "POST", "DELETE", "PATCH"],
        include_in_schema=False,
    )
