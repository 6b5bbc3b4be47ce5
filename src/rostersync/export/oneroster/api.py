"""The OneRoster rostering REST provider: 1.2 under ``/ims/oneroster/rostering/v1p2`` and 1.1
under ``/ims/oneroster/v1p1``, every rostering GET endpoint, plus the OAuth 2 token endpoint.

Each endpoint is one row of a table (path, resource, how the path narrows the rows, which
parents must exist); one handler serves them all, so authentication, scopes, sharing rules,
paging, filters and error bodies are the same everywhere. Handlers are synchronous and run in
the server's thread pool, each on its own database connection.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement
from starlette.exceptions import HTTPException as StarletteHTTPException

from rostersync.export.oneroster import oauth1, openapi
from rostersync.export.oneroster.catalog import RESOURCES, Resource, Version
from rostersync.export.oneroster.clients import (
    SCOPE_PREFIXES,
    ApiClient,
    ApiClients,
    ClientExpired,
    short_scope,
)
from rostersync.export.oneroster.pagecache import RowCache, VersionCache
from rostersync.export.oneroster.protocol import (
    OneRosterError,
    error_body,
    link_header,
    parse_paging,
)
from rostersync.export.oneroster.query import (
    ListParams,
    Query,
    Scope,
    VersionMoved,
    begin_read,
)
from rostersync.export.oneroster.serialize import Serializer
from rostersync.logs import get_logger
from rostersync.store.schema import roster_tables

log = get_logger("oneroster")

BASE_PATHS: dict[Version, str] = {
    "1.2": "/ims/oneroster/rostering/v1p2",
    "1.1": "/ims/oneroster/v1p1",
}
#: Attempts at a request that publishes keep overtaking (each one is a fresh version read).
RETRIES = 3
ScopeKind = Literal["core", "nested", "demographics"]
Cond = Callable[[Mapping[str, sa.Table], Mapping[str, str], "Provider", Scope], ColumnElement[bool]]


@dataclass
class Provider:
    """What the endpoints need: an engine to read the store with (see
    :func:`~rostersync.export.oneroster.query.read_engine`), the API clients, the OAuth 1.0a
    nonce store (in the clients' database unless given), and the per-version cache of
    collections."""

    engine: Engine
    clients: ApiClients
    tables: Mapping[str, sa.Table] = field(default_factory=lambda: roster_tables)
    nonces: oauth1.NonceStore | None = None
    cache: VersionCache = field(default_factory=VersionCache)
    rows: RowCache = field(default_factory=RowCache)
    serializers: dict[tuple[str, str, str], Serializer] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.nonces is None:
            # In the store's (writable) database, shared by every server process.
            self.nonces = oauth1.NonceStore(self.clients.engine)

    def serializer(self, resource: Resource, base_url: str, version: Version) -> Serializer:
        """The serializer of a resource under a base URL (built once, reused per request)."""
        key = (version, resource.entity, base_url)
        found = self.serializers.get(key)
        if found is None:
            if len(self.serializers) > 256:  # base URLs come from Host headers: stay bounded
                self.serializers.clear()
            found = self.serializers[key] = Serializer(resource, base_url, version)
        return found


@dataclass(frozen=True)
class Parent:
    """A path parameter naming an object that must exist (and be visible) for the endpoint."""

    param: str
    entity: str
    kind: Callable[[sa.Table], ColumnElement[bool]] | None = None


@dataclass(frozen=True)
class Endpoint:
    path: str
    entity: str
    scope: ScopeKind
    single: bool = False
    kind: Callable[[sa.Table], ColumnElement[bool]] | None = None
    narrow: Cond | None = None
    parents: tuple[Parent, ...] = ()


# -- what each path narrows to ----------------------------------------------------------------


def _type(value: str) -> Callable[[sa.Table], ColumnElement[bool]]:
    return lambda t: t.c.type == value


def _types(*values: str) -> Callable[[sa.Table], ColumnElement[bool]]:
    return lambda t: t.c.type.in_(values)


def _role(*values: str) -> Callable[[sa.Table], ColumnElement[bool]]:
    return lambda t: t.c.role.in_(values)


def _in_few(prov: Provider, column: sa.Column[Any], ids: sa.Select[Any]) -> ColumnElement[bool]:
    """``column IN (ids)`` for a subquery that yields a handful of IDs (a class roster).

    On PostgreSQL it is written ``= ANY(ARRAY(…))``: the IDs are then computed first and looked
    up by primary key. As a plain ``IN``, the planner — asked for a sorted, limited page —
    preferred a merge semi-join that walked every enrollment of the district (a second per
    request on a mega district instead of milliseconds).
    """
    if prov.engine.dialect.name == "postgresql":
        return column == sa.func.any(sa.func.array(ids.scalar_subquery()))
    return column.in_(ids)


def _enrolled_users(role: str, class_param: str, school_param: str | None = None) -> Cond:
    def cond(
        tables: Mapping[str, sa.Table], p: Mapping[str, str], prov: Provider, scope: Scope
    ) -> ColumnElement[bool]:
        enr = Query(RESOURCES["1.2"]["enrollments"], tables, scope)
        e = enr.table.c
        where = [*enr.base_conditions(), e.classSourcedId == p[class_param], e.role == role]
        if school_param:
            where.append(e.schoolSourcedId == p[school_param])
        users = tables["users"]
        return _in_few(prov, users.c.sourcedId, sa.select(e.userSourcedId).where(*where))

    return cond


def _classes_of_user(param: str) -> Cond:
    def cond(
        tables: Mapping[str, sa.Table], p: Mapping[str, str], prov: Provider, scope: Scope
    ) -> ColumnElement[bool]:
        enr = Query(RESOURCES["1.2"]["enrollments"], tables, scope)
        e = enr.table.c
        sub = sa.select(e.classSourcedId).where(*enr.base_conditions(), e.userSourcedId == p[param])
        return _in_few(prov, tables["classes"].c.sourcedId, sub)

    return cond


def _eq(column: str, param: str) -> Callable[[str], Cond]:
    def bind(entity: str) -> Cond:
        return lambda tables, p, prov, scope: tables[entity].c[column] == p[param]

    return bind


def _users_at_school(param: str) -> Cond:
    def cond(
        tables: Mapping[str, sa.Table], p: Mapping[str, str], prov: Provider, scope: Scope
    ) -> ColumnElement[bool]:
        c = tables["users"].c
        sid = p[param]
        pattern = '%"' + sid.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"%'
        return sa.or_(c.primaryOrgSourcedId == sid, c.orgSourcedIds.like(pattern, escape="\\"))

    return cond


def _classes_in_term(param: str) -> Cond:
    def cond(
        tables: Mapping[str, sa.Table], p: Mapping[str, str], prov: Provider, scope: Scope
    ) -> ColumnElement[bool]:
        tid = p[param]
        pattern = '%"' + tid.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"%'
        return tables["classes"].c.termSourcedIds.like(pattern, escape="\\")

    return cond


def _courses_at_school(param: str) -> Cond:
    """Courses the school offers: those whose ``org`` is the school, and those with a class
    (a PowerSchool section) at the school — a district-wide course is taught at many schools,
    and PowerSchool ties a course to schools only through its sections."""

    def cond(
        tables: Mapping[str, sa.Table], p: Mapping[str, str], prov: Provider, scope: Scope
    ) -> ColumnElement[bool]:
        classes = Query(RESOURCES["1.2"]["classes"], tables, scope)
        k = classes.table.c
        taught = sa.select(k.courseSourcedId).where(
            *classes.base_conditions(), k.schoolSourcedId == p[param]
        )
        c = tables["courses"].c
        return sa.or_(c.orgSourcedId == p[param], c.sourcedId.in_(taught))

    return cond


def _terms_of_school(param: str) -> Cond:
    def cond(
        tables: Mapping[str, sa.Table], p: Mapping[str, str], prov: Provider, scope: Scope
    ) -> ColumnElement[bool]:
        c = tables["academicSessions"].c
        return sa.and_(
            c.type.in_(TERM_TYPES),
            sa.or_(c.orgSourcedId == p[param], c.orgSourcedId.is_(None)),
        )

    return cond


def _all(*conds: Cond) -> Cond:
    def cond(
        tables: Mapping[str, sa.Table], p: Mapping[str, str], prov: Provider, scope: Scope
    ) -> ColumnElement[bool]:
        return sa.and_(*(c(tables, p, prov, scope) for c in conds))

    return cond


SCHOOL = _type("school")
#: What ``/terms`` serves: every session a class can be scheduled in. PowerSchool's year terms and
#: semesters are typed ``schoolYear`` and ``semester`` (trimesters ``term``), and a class refers to
#: whichever it runs in, so a consumer that follows a class's ``terms`` reference to
#: ``/terms/{id}`` must find it; grading periods are served under ``/gradingPeriods``.
TERM_TYPES = ("schoolYear", "semester", "term")
TERM = _types(*TERM_TYPES)
GRADING_PERIOD = _type("gradingPeriod")
STUDENT = _role("student")
TEACHER = _role("teacher")
school_parent = Parent("sid", "orgs", SCHOOL)
class_parent = Parent("cid", "classes")


ENDPOINTS: tuple[Endpoint, ...] = (
    # collections and single objects
    Endpoint("/academicSessions", "academicSessions", "core"),
    Endpoint("/academicSessions/{id}", "academicSessions", "core", single=True),
    Endpoint("/terms", "academicSessions", "core", kind=TERM),
    Endpoint("/terms/{id}", "academicSessions", "core", single=True, kind=TERM),
    Endpoint("/gradingPeriods", "academicSessions", "core", kind=GRADING_PERIOD),
    Endpoint("/gradingPeriods/{id}", "academicSessions", "core", single=True, kind=GRADING_PERIOD),
    Endpoint("/classes", "classes", "core"),
    Endpoint("/classes/{id}", "classes", "core", single=True),
    Endpoint("/courses", "courses", "core"),
    Endpoint("/courses/{id}", "courses", "core", single=True),
    Endpoint("/demographics", "demographics", "demographics"),
    Endpoint("/demographics/{id}", "demographics", "demographics", single=True),
    Endpoint("/enrollments", "enrollments", "core"),
    Endpoint("/enrollments/{id}", "enrollments", "core", single=True),
    Endpoint("/orgs", "orgs", "core"),
    Endpoint("/orgs/{id}", "orgs", "core", single=True),
    Endpoint("/schools", "orgs", "core", kind=SCHOOL),
    Endpoint("/schools/{id}", "orgs", "core", single=True, kind=SCHOOL),
    Endpoint("/users", "users", "core"),
    Endpoint("/users/{id}", "users", "core", single=True),
    Endpoint("/students", "users", "core", kind=STUDENT),
    Endpoint("/students/{id}", "users", "core", single=True, kind=STUDENT),
    Endpoint("/teachers", "users", "core", kind=TEACHER),
    Endpoint("/teachers/{id}", "users", "core", single=True, kind=TEACHER),
    # nested
    Endpoint(
        "/classes/{cid}/students",
        "users",
        "nested",
        kind=STUDENT,
        narrow=_enrolled_users("student", "cid"),
        parents=(class_parent,),
    ),
    Endpoint(
        "/classes/{cid}/teachers",
        "users",
        "nested",
        kind=TEACHER,
        narrow=_enrolled_users("teacher", "cid"),
        parents=(class_parent,),
    ),
    Endpoint(
        "/courses/{cid}/classes",
        "classes",
        "nested",
        narrow=_eq("courseSourcedId", "cid")("classes"),
        parents=(Parent("cid", "courses"),),
    ),
    Endpoint(
        "/schools/{sid}/classes",
        "classes",
        "nested",
        narrow=_eq("schoolSourcedId", "sid")("classes"),
        parents=(school_parent,),
    ),
    Endpoint(
        "/schools/{sid}/courses",
        "courses",
        "nested",
        narrow=_courses_at_school("sid"),
        parents=(school_parent,),
    ),
    Endpoint(
        "/schools/{sid}/enrollments",
        "enrollments",
        "nested",
        narrow=_eq("schoolSourcedId", "sid")("enrollments"),
        parents=(school_parent,),
    ),
    Endpoint(
        "/schools/{sid}/students",
        "users",
        "nested",
        kind=STUDENT,
        narrow=_users_at_school("sid"),
        parents=(school_parent,),
    ),
    Endpoint(
        "/schools/{sid}/teachers",
        "users",
        "nested",
        kind=TEACHER,
        narrow=_users_at_school("sid"),
        parents=(school_parent,),
    ),
    Endpoint(
        "/schools/{sid}/terms",
        "academicSessions",
        "nested",
        narrow=_terms_of_school("sid"),
        parents=(school_parent,),
    ),
    Endpoint(
        "/schools/{sid}/classes/{cid}/enrollments",
        "enrollments",
        "nested",
        narrow=_all(
            _eq("schoolSourcedId", "sid")("enrollments"),
            _eq("classSourcedId", "cid")("enrollments"),
        ),
        parents=(school_parent, class_parent),
    ),
    Endpoint(
        "/schools/{sid}/classes/{cid}/students",
        "users",
        "nested",
        kind=STUDENT,
        narrow=_enrolled_users("student", "cid", "sid"),
        parents=(school_parent, class_parent),
    ),
    Endpoint(
        "/schools/{sid}/classes/{cid}/teachers",
        "users",
        "nested",
        kind=TEACHER,
        narrow=_enrolled_users("teacher", "cid", "sid"),
        parents=(school_parent, class_parent),
    ),
    Endpoint(
        "/students/{uid}/classes",
        "classes",
        "nested",
        narrow=_classes_of_user("uid"),
        parents=(Parent("uid", "users", STUDENT),),
    ),
    Endpoint(
        "/teachers/{uid}/classes",
        "classes",
        "nested",
        narrow=_classes_of_user("uid"),
        parents=(Parent("uid", "users", TEACHER),),
    ),
    Endpoint(
        "/users/{uid}/classes",
        "classes",
        "nested",
        narrow=_classes_of_user("uid"),
        parents=(Parent("uid", "users"),),
    ),
    Endpoint(
        "/terms/{tid}/classes",
        "classes",
        "nested",
        narrow=_classes_in_term("tid"),
        parents=(Parent("tid", "academicSessions", TERM),),
    ),
    Endpoint(
        "/terms/{tid}/gradingPeriods",
        "academicSessions",
        "nested",
        kind=GRADING_PERIOD,
        narrow=_eq("parentSourcedId", "tid")("academicSessions"),
        parents=(Parent("tid", "academicSessions", TERM),),
    ),
)


class OrjsonResponse(JSONResponse):
    """JSON responses rendered with orjson: pages of 100 users are the provider's hot path."""

    def render(self, content: object) -> bytes:
        return orjson.dumps(content)


# -- authentication ---------------------------------------------------------------------------

SCOPE_NEEDS: dict[ScopeKind, tuple[str, ...]] = {
    "core": ("roster-core.readonly", "roster.readonly"),
    "nested": ("roster.readonly",),
    "demographics": ("roster-demographics.readonly",),
}


#: Who a request is from: the API client and the scopes its credential grants.
Authenticated = tuple[ApiClient, frozenset[str]]


def _printable_ascii(text: str) -> bool:
    return text.isascii() and text.isprintable()


def _authenticate(
    request: Request, version: Version, prov: Provider, conn: sa.Connection
) -> Authenticated:
    """Who is asking (the client and its granted scopes)."""
    return _identify(request, version, prov, conn)[0]


def _identify(
    request: Request, version: Version, prov: Provider, conn: sa.Connection
) -> tuple[Authenticated, tuple[int | None] | None]:
    """Who is asking; with a bearer token, also the district's current roster version, read
    in the same statement as the client's row (``None`` when it was not read)."""
    header = request.headers.get("authorization", "")
    if not _printable_ascii(header):
        # Headers arrive as latin-1: bytes past ASCII or control characters are no credential
        # (and would reach comparisons and queries that refuse them).
        raise OneRosterError(
            "unauthorisedrequest", "the Authorization header must be printable ASCII"
        )
    scheme = header.split(" ", 1)[0].lower()
    if scheme == "bearer":
        token = header[7:].strip()
        found = prov.clients.read_token_and_version(token, conn=conn)
        if found is None:
            raise OneRosterError("unauthorisedrequest", "the access token is invalid or expired")
        return found[0], (found[1],)
    query = list(request.query_params.multi_items())
    if version == "1.1" and (scheme == "oauth" or any(k == "oauth_signature" for k, _ in query)):
        if scheme == "oauth":
            params = oauth1.parse_authorization(header)
        else:
            params = {k: v for k, v in query if k.startswith("oauth_")}
            query = [(k, v) for k, v in query if not k.startswith("oauth_")]
        bad = sorted(k for k, v in params.items() if not _printable_ascii(k + v))
        if bad:
            raise OneRosterError(
                "unauthorisedrequest",
                f"OAuth 1.0a: {', '.join(repr(k) for k in bad)} must be printable ASCII",
            )
        found_secret = prov.clients.signing_secret(params.get("oauth_consumer_key", ""), conn)
        if found_secret is None:
            raise OneRosterError("unauthorisedrequest", "unknown oauth_consumer_key")
        client, secret = found_secret
        problem = oauth1.check_signature(request.method, str(request.url), query, params, secret)
        stamp = oauth1.timestamp_of(params)
        assert prov.nonces is not None
        if (
            problem is None
            and stamp is not None
            and not prov.nonces.first_use(client.client_id, params["oauth_nonce"], stamp)
        ):
            problem = "oauth_nonce was already used"
        if problem:
            raise OneRosterError("unauthorisedrequest", f"OAuth 1.0a: {problem}")
        if client.expired():
            assert client.expires_at is not None
            raise ClientExpired(client.client_id, client.expires_at)
        return (client, client.scopes), None
    raise OneRosterError(
        "unauthorisedrequest",
        "authentication required: send Authorization: Bearer <token> from POST /oauth/token"
        + (" or sign the request with OAuth 1.0a (HMAC-SHA256)" if version == "1.1" else ""),
    )


# -- the handler ------------------------------------------------------------------------------


def _params(request: Request) -> ListParams:
    q = request.query_params
    limit, offset = parse_paging(q.get("limit"), q.get("offset"))
    order = (q.get("orderBy") or "asc").lower()
    if order not in ("asc", "desc"):
        raise OneRosterError("invaliddata", "orderBy must be asc or desc")
    return ListParams(
        limit, offset, q.get("sort") or None, order == "desc", q.get("filter"), q.get("fields")
    )


def _refuse_nul(request: Request) -> None:
    """A NUL character can be in no stored value (PostgreSQL text refuses it): answer as the
    spec would instead of letting the database fail on the bound parameter."""
    for name, value in request.path_params.items():
        if "\x00" in value:
            raise OneRosterError("unknownobject", f"{name}: no object has a sourcedId with NUL")
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            code = "invalid_filter_field" if name == "filter" else "invaliddata"
            raise OneRosterError(code, f"{name!r}: query parameters must not contain NUL")


def _serve(
    request: Request, ep: Endpoint, version: Version, prov: Provider, auth: list[Authenticated]
) -> Response:
    """One attempt at a request; ``auth`` keeps who it is across attempts (once authenticated,
    an OAuth 1.0a nonce is spent: a retry after a publish must not check it again)."""
    conn = prov.engine.connect()
    try:
        current = None
        if not auth:
            # On the request's own connection: the client's row (revoked or not) and the
            # district's current version cost one query, no second connection from the pool.
            try:
                who, current = _identify(request, version, prov, conn)
            except ClientExpired as exc:
                raise OneRosterError("unauthorisedrequest", str(exc)) from None
            auth.append(who)
        return _serve_as(request, ep, version, prov, auth[0], conn, current)
    finally:
        conn.close()


def _serve_as(
    request: Request,
    ep: Endpoint,
    version: Version,
    prov: Provider,
    auth: Authenticated,
    conn: sa.Connection,
    current: tuple[int | None] | None = None,
) -> Response:
    client, scopes = auth
    _refuse_nul(request)
    needs = SCOPE_NEEDS[ep.scope]
    if not scopes & set(needs):
        raise OneRosterError(
            "forbidden",
            f"this endpoint needs the scope {' or '.join(needs)}",
        )
    scope = Scope(client.district_id, client.sharing)
    if not client.sharing.entity_visible(ep.entity):
        raise OneRosterError("forbidden", f"this API client is not granted {ep.entity}")
    resource = RESOURCES[version][ep.entity]
    path = dict(request.path_params)
    base = str(request.base_url).rstrip("/") + BASE_PATHS[version]
    serializer = prov.serializer(resource, base, version)
    with conn:  # released before the page is serialized
        roster_version = begin_read(conn, client.district_id, current)
        query = Query(resource, prov.tables, scope, prov.cache, roster_version, guarded=True)
        extra: list[ColumnElement[bool]] = []
        if ep.kind is not None:
            extra.append(ep.kind(query.table))
        deferred: list[tuple[Parent, Query, list[ColumnElement[bool]]]] = []
        for parent in ep.parents:
            pq = Query(
                RESOURCES[version][parent.entity], prov.tables, scope, None, roster_version, True
            )
            cond = [parent.kind(pq.table)] if parent.kind is not None else []
            if not ep.single and pq.table is not query.table:
                # Folded into the page's statement, one round trip fewer; asked on its own
                # only when nothing matched, to tell a missing parent from an empty list.
                extra.append(pq.exists_clause(path[parent.param], cond))
                deferred.append((parent, pq, cond))
            elif not pq.exists(conn, path[parent.param], cond):
                raise _no_parent(parent, path)
        if ep.single:
            unexpected = set(request.query_params) - {"fields"}
            if unexpected - {k for k in unexpected if k.startswith("oauth_")}:
                raise OneRosterError(
                    "invaliddata", "a single-object request accepts only the fields parameter"
                )
            row, fields = query.one(conn, path["id"], request.query_params.get("fields"), extra)
            if row is None:
                raise OneRosterError(
                    "unknownobject", f"no {resource.single_key} with sourcedId {path['id']!r}"
                )
            return OrjsonResponse({resource.single_key: serializer.one(row, fields)})
        if ep.narrow is not None:
            extra.append(ep.narrow(prov.tables, path, prov, scope))
        params = _params(request)
        key = (version, ep.path, tuple(sorted(path.items())))
        # Everything a row's JSON depends on besides the row (sharing may hide fields/agents).
        context = (
            roster_version,
            client.district_id,
            version,
            ep.entity,
            base,
            params.fields,
            client.sharing.cache_key(),
        )
        rows_cache = prov.rows

        def known(ids: list[str]) -> bool:
            return rows_cache.has_all(context, ids)

        broad = ep.narrow is None and not ep.parents
        page = query.page(conn, params, extra, key, known, broad=broad)
        if page.total == 0:
            for parent, pq, cond in deferred:
                if not pq.exists(conn, path[parent.param], cond):
                    raise _no_parent(parent, path)
        parts = rows_cache.get_all(context, page.ids) if page.rows is None and page.ids else None
        if page.rows is None and parts is None:  # evicted since: read them after all
            page = query.page(conn, params, extra, key)
    if parts is None:
        assert page.rows is not None
        objects = serializer.many(page.rows, page.fields)
        parts = [orjson.dumps(o) for o in objects]
        if page.ids is not None:
            ids = [str(r["sourcedId"]) for r in page.rows]
            rows_cache.put_all(context, list(zip(ids, parts, strict=True)))
    total = page.total
    body = b"".join((b'{"', resource.collection_key.encode(), b'":[', b",".join(parts), b"]}"))
    keep = {
        k: v
        for k, v in request.query_params.items()
        if k not in ("limit", "offset") and not k.startswith("oauth_")
    }
    url = str(request.url).split("?", 1)[0]
    headers = {
        "X-Total-Count": str(total),
        "Link": link_header(url, keep, total, params.limit, params.offset),
    }
    return Response(body, media_type="application/json", headers=headers)


def _no_parent(parent: Parent, path: Mapping[str, str]) -> OneRosterError:
    return OneRosterError(
        "unknownobject", f"no {parent.entity} with sourcedId {path[parent.param]!r}"
    )


def _route(ep: Endpoint, version: Version, prov: Provider) -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        try:
            auth: list[Authenticated] = []
            for _ in range(RETRIES):
                try:
                    return _serve(request, ep, version, prov, auth)
                except VersionMoved:
                    continue  # a publish committed mid-request: answer from the new version
            raise OneRosterError(
                "server_busy", "the roster is being republished; retry in a moment", status=503
            )
        except DBAPIError as exc:
            log.warning("oneroster.store_error", path=request.url.path, error=type(exc).__name__)
            raise OneRosterError(
                "internal_server_error", "the roster store could not answer this request"
            ) from exc

    handler.__name__ = f"oneroster_{version.replace('.', '')}_{ep.path}"
    return handler


def build_router(version: Version, prov: Provider) -> APIRouter:
    """Every rostering GET endpoint of one OneRoster version."""
    router = APIRouter(prefix=BASE_PATHS[version], tags=[f"OneRoster {version}"])
    for ep in ENDPOINTS:
        handler = _route(ep, version, prov)
        resource = RESOURCES[version][ep.entity]
        described = openapi.operation(
            ep.path,
            version,
            resource,
            single=ep.single,
            scopes=SCOPE_NEEDS[ep.scope],
            may_be_missing=ep.single or bool(ep.parents),
        )
        router.add_api_route(
            ep.path,
            handler,
            methods=["GET"],
            summary=f"{'One' if ep.single else 'List'} {resource.name} ({ep.path})",
            operation_id=handler.__name__.replace("/", "_").replace("{", "").replace("}", ""),
            openapi_extra=described,
        )
        # Served as is, not redirected: a redirect would change the URL an OAuth 1.0a client
        # signed, and many HTTP clients do not follow redirects by default.
        router.add_api_route(ep.path + "/", handler, methods=["GET"], include_in_schema=False)
    return router


# -- OAuth 2 token endpoint -------------------------------------------------------------------


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="oneroster"'} if status == 401 else {}
    headers["Cache-Control"] = "no-store"
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    # Client IDs and secrets are ASCII; anything else (a NUL, say) is no credential and would
    # only reach the database to be refused there.
    return (user, password) if sep and _printable_ascii(decoded) else None


def build_token_router(prov: Provider) -> APIRouter:
    """``POST /oauth/token``: OAuth 2 client credentials (client_secret_basic)."""
    router = APIRouter(tags=["OAuth 2"])

    @router.post(openapi.TOKEN_PATH, openapi_extra=openapi.token_operation())
    async def token(request: Request) -> Response:
        try:
            form = await request.form()
        except Exception:  # a malformed body (multipart, encoding): the client's error
            return _oauth_error(400, "invalid_request", "the request body is not a valid form")
        repeated = sorted(
            k
            for k in ("grant_type", "scope", "client_id", "client_secret")
            if len(form.getlist(k)) > 1
        )
        if repeated:
            return _oauth_error(
                400, "invalid_request", f"parameter(s) sent more than once: {', '.join(repeated)}"
            )
        texts = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        if any(not _printable_ascii(v) for v in texts.values()):
            return _oauth_error(400, "invalid_request", "parameters must be printable ASCII")
        auth_header = request.headers.get("authorization", "")
        creds = _basic_credentials(auth_header) if _printable_ascii(auth_header) else None
        if creds is None and "client_id" in texts:
            creds = (texts["client_id"], texts.get("client_secret", ""))
        if creds is None:
            return _oauth_error(401, "invalid_client", "authenticate with HTTP Basic")
        grant_type = texts.get("grant_type", "")
        if not grant_type:
            return _oauth_error(
                400, "invalid_request", "grant_type is required (grant_type=client_credentials)"
            )
        if grant_type != "client_credentials":
            return _oauth_error(
                400,
                "unsupported_grant_type",
                f"grant_type {grant_type!r} is not supported: use client_credentials",
            )
        try:
            client = prov.clients.verify_secret(*creds)
        except ClientExpired as exc:
            return _oauth_error(401, "invalid_client", str(exc))
        if client is None:
            return _oauth_error(401, "invalid_client", "unknown client or wrong secret")
        requested = texts.get("scope", "").split()
        if requested:
            # Per RFC 6749 §3.3 the grant may be narrower than asked; the response's ``scope``
            # says what was granted. Only when nothing asked for is grantable is it refused.
            granted = list(dict.fromkeys(s for s in requested if short_scope(s) in client.scopes))
            if not granted:
                return _oauth_error(
                    400,
                    "invalid_scope",
                    "none of the requested scopes is granted to this client; granted: "
                    + " ".join(SCOPE_PREFIXES[0] + s for s in sorted(client.scopes)),
                )
        else:
            granted = [SCOPE_PREFIXES[0] + s for s in sorted(client.scopes)]
        access = prov.clients.issue_token(client, [short_scope(s) for s in granted])
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "bearer",
                "expires_in": 3600,
                "scope": " ".join(granted),
            },
            headers={"Cache-Control": "no-store"},
        )

    return router


def install(app: FastAPI, prov: Provider) -> None:
    """Mount the token endpoint and both OneRoster versions, and render their errors per spec."""
    app.include_router(build_token_router(prov))
    for version in ("1.2", "1.1"):
        app.include_router(build_router(version, prov))

    async def on_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, OneRosterError)
        version = "1.1" if request.url.path.startswith(BASE_PATHS["1.1"]) else "1.2"
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(
            error_body(version, exc.code_minor, exc.description, major=exc.major),
            status_code=exc.status,
            headers=headers,
        )

    async def on_http_error(request: Request, exc: Exception) -> Response:
        """Routing errors (unknown path, wrong method): the status payload under the OneRoster
        bases, the framework's usual answer elsewhere."""
        assert isinstance(exc, StarletteHTTPException)
        path = request.url.path
        version: Version | None = next(
            (v for v, b in BASE_PATHS.items() if path == b or path.startswith(b + "/")), None
        )
        if version is None:
            return await http_exception_handler(request, exc)
        if exc.status_code == 404:
            error = OneRosterError("unknownobject", f"no such OneRoster {version} endpoint: {path}")
        elif exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "GET")
            error = OneRosterError(
                "invaliddata",
                f"method {request.method} is not allowed on {path} (allowed: {allowed}; the "
                "rostering service is read-only, the gradebook takes PUT and DELETE)",
                status=405,
                major="unsupported",
            )
        else:
            error = OneRosterError("invaliddata", str(exc.detail), status=exc.status_code)
        response = await on_error(request, error)
        if exc.headers:
            response.headers.update(exc.headers)  # Allow: GET on a 405
        return response

    app.add_exception_handler(OneRosterError, on_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    openapi.describe(app)


__all__: Sequence[str] = ("ENDPOINTS", "Provider", "build_router", "install")
