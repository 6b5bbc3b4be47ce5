"""The simulator's routes: each PowerSchool endpoint of the reference, bound to a Simulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import polars as pl
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rostersync.clock import utcnow

from . import _render, _tables, _v1
from ._fiql import Target
from ._http import HttpError, json_body, json_response, paging, path_id

if TYPE_CHECKING:
    from .app import Handler, Simulator


def routes(sim: Simulator) -> list[Route]:
    """Every route of the simulator."""
    v1 = _V1(sim)
    tables = _Tables(sim)

    def guarded(handler: Handler, *, auth: bool = True) -> Handler:
        async def endpoint(request: Request) -> Response:
            return await sim.guard(request, handler, auth=auth)

        return endpoint

    def r(
        path: str, handler: Handler, methods: tuple[str, ...] = ("GET",), *, auth: bool = True
    ) -> Route:
        return Route(path, guarded(handler, auth=auth), methods=list(methods))

    out = [
        r("/oauth/access_token", sim.access_token, ("POST",), auth=False),
        r("/oauth/access_token/", sim.access_token, ("POST",), auth=False),
        r("/ws/v1/time", v1.time, auth=False),
        r("/ws/v1/metadata", v1.metadata),
        r("/ws/v1/district", v1.district),
        r("/ws/v1/district/school", v1.schools),
        r("/ws/v1/district/school/count", v1.schools),
        r("/ws/v1/district/student", v1.district_students),
        r("/ws/v1/district/student/count", v1.district_students),
        r("/ws/v1/school/{school_id}", v1.school),
        r("/ws/v1/school/{school_id}/{kind}", v1.school_list),
        r("/ws/v1/school/{school_id}/{kind}/count", v1.school_list),
        r("/ws/v1/section/{section_id}/section_enrollment", v1.enrollments),
        r("/ws/v1/section/{section_id}/section_enrollment/count", v1.enrollments),
        r("/ws/v1/{kind}/{id}", v1.single),
        r("/ws/schema/table", tables.names),
        r("/ws/schema/table/{table}", tables.list),
        r("/ws/schema/table/{table}/count", tables.count),
        r("/ws/schema/table/{table}/metadata", tables.metadata),
        r("/ws/schema/table/{table}/{id}", tables.single),
    ]
    from . import _contacts, _control, _dataversion, _queries, _writes

    out += _queries.routes(sim, r) + _writes.routes(sim, r) + _dataversion.routes(sim, r)
    out += _contacts.routes(sim, r)
    if sim.config.enable_control:
        out += _control.routes(sim)
    return out


def _path_int(request: Request, name: str) -> int:
    value = path_id(request.path_params[name])
    if value is None:
        raise HttpError(404, f"Not Found: {request.url.path}")
    return value


def _is_count(request: Request) -> bool:
    return request.url.path.rstrip("/").endswith("/count")


class _V1:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    @property
    def num(self) -> _v1.Numbers:
        return _v1.Numbers(self.sim.config.coerce_numbers)

    def _v1_allowed(self, write: bool = False) -> None:
        cfg = self.sim.config
        level = (self.sim.plugin.access_level_v1 or "NONE").upper()
        if cfg.enforce_v1_access_level and (level == "NONE" or (write and level != "FULL")):
            raise HttpError(
                cfg.v1_denied_status,
                f"Access to /ws/v1 is not granted to this plugin (accessLevelV1Api={level})",
            )

    async def time(self, request: Request) -> Response:
        now = utcnow()
        return json_response(
            {
                "time": {
                    "time": now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "epoch": int(now.timestamp()),
                }
            }
        )

    async def metadata(self, request: Request) -> Response:
        cfg = self.sim.config
        sizes = cfg.max_page_sizes
        d = self.sim.district
        meta: dict[str, Any] = {f"{k}_max_page_size": v for k, v in sizes.items()}
        meta.update(
            {
                "plugin_id": 1001,
                "powerschool_version": cfg.powerschool_version,
                "powerteacher_version": cfg.powerschool_version,
                "state_reporting_version": "24.7.0",
                "mobile_api_version": "1.0",
                "state": "WA",
                "district_timezone": cfg.district_timezone,
                "district_uuid": str(_district_uuid(d.seed)),
                "machine_uptime": "3 days",
                "powerschool_uptime": "3 days",
                "sso_enabled_admin": "false",
                "sso_enabled_guardian": "false",
                "sso_enabled_student": "false",
                "sso_enabled_teacher": "false",
            }
        )
        return json_response({"metadata": meta})

    async def district(self, request: Request) -> Response:
        self._v1_allowed()
        d = self.sim.district
        return json_response(
            {
                "district": {
                    "uuid": str(_district_uuid(d.seed)),
                    "name": d.name,
                    "district_number": self.num("1701"),
                    "addresses": {
                        "physical": {
                            "street": "100 Education Way",
                            "city": "Springfield",
                            "state_province": "WA",
                            "postal_code": self.num("98101"),
                        }
                    },
                    "phones": {"main": {"number": "(206) 555-0100"}},
                }
            }
        )

    async def schools(self, request: Request) -> Response:
        self._v1_allowed()
        frame = self.sim.filter_q(
            request, self.sim.view("school"), _v1.GENERIC_Q | {"id": Target("dcid")}
        )
        num = self.num
        return self.sim.v1_list(
            request,
            "school",
            frame,
            lambda rows, ex, _ext: [_v1.school_json(r, ex, num) for r in rows],
            expansions=_v1.SCHOOL_EXPANSIONS,
            count=_is_count(request),
        )

    async def school(self, request: Request) -> Response:
        self._v1_allowed()
        dcid = _path_int(request, "school_id")
        self.sim.school_number(dcid)
        row = self.sim.view("school").filter(pl.col("dcid") == dcid).to_dicts()[0]
        ex = set(request.query_params.get("expansions", "").split(","))
        return json_response({"school": _v1.school_json(row, ex, self.num)})

    def _students(
        self,
        request: Request,
        frame: pl.DataFrame,
        count: bool,
        cache_key: tuple[Any, ...] | None = None,
    ) -> Response:
        if request.query_params.get("q"):
            frame = self.sim.filter_q(request, frame, _v1.STUDENT_Q)
            cache_key = None
        coerce = self.sim.config.coerce_numbers
        return self.sim.v1_list(
            request,
            "student",
            frame,
            lambda rows, ex, ext: _v1.students_json(rows, ex, ext, _v1.Numbers(coerce)),
            expansions=_v1.STUDENT_EXPANSIONS,
            extensions=_v1.STUDENT_EXTENSIONS,
            count=count,
            render=lambda f, ex, ext: _render.student_texts(f, ex, ext, coerce),
            cache_key=cache_key,
        )

    async def district_students(self, request: Request) -> Response:
        self._v1_allowed()
        return self._students(request, self.sim.view("student"), _is_count(request))

    async def school_list(self, request: Request) -> Response:
        self._v1_allowed()
        number = self.sim.school_number(_path_int(request, "school_id"))
        kind = request.path_params["kind"]
        count = _is_count(request)
        num = self.num
        if kind == "student":
            frame = self.sim.part("student", "schoolid", number)
            q = request.query_params.get("q", "")
            active = self.sim.config.school_student_filter == "active" and "enroll_status" not in q
            if active:
                part = frame
                frame = self.sim.memo(
                    ("active-students", number),
                    lambda: part.filter(pl.col("enroll_status") == 0),
                )
            key = ("school-students", number, active, self.sim.config.coerce_numbers)
            return self._students(request, frame, count, key)
        if kind == "staff":
            frame = self.sim.filter_q(
                request, self.sim.part("staff", "schoolid", number), _v1.STAFF_Q
            )
            return self.sim.v1_list(
                request,
                "staff",
                frame,
                lambda rows, ex, _e: _v1.staff_json(rows, ex, num),
                expansions=_v1.STAFF_EXPANSIONS,
                count=count,
            )
        if kind == "section":
            frame = self.sim.filter_q(
                request, self.sim.part("section", "schoolid", number), _v1.SECTION_Q
            )
            return self.sim.v1_list(
                request,
                "section",
                frame,
                lambda rows, ex, _e: _v1.section_json(rows, ex, num),
                expansions=_v1.SECTION_EXPANSIONS,
                count=count,
            )
        if kind == "course":
            frame = self.sim.filter_q(
                request,
                self.sim.part("course", "schoolid", number),
                {
                    "id": Target("dcid"),
                    "course_number": Target("course_number"),
                },
            )
            return self.sim.v1_list(
                request,
                "course",
                frame,
                lambda rows, _ex, _e: _v1.course_json(rows, num),
                count=count,
            )
        if kind == "term":
            frame = self.sim.filter_q(
                request, self.sim.part("term", "schoolid", number), {"id": Target("dcid")}
            )
            return self.sim.v1_list(
                request,
                "term",
                frame,
                lambda rows, _ex, _e: [_v1.term_json(r, num) for r in rows],
                count=count,
            )
        raise HttpError(404, f"Not Found: {request.url.path}")

    async def enrollments(self, request: Request) -> Response:
        self._v1_allowed()
        dcid = _path_int(request, "section_id")
        if self.sim.view("section").filter(pl.col("dcid") == dcid).height == 0:
            raise HttpError(404, f"Section {dcid} not found")
        frame = self.sim.part("enrollment", "section_dcid", dcid)
        frame = self.sim.filter_q(request, frame, {"id": Target("dcid")})
        num = self.num
        return self.sim.v1_list(
            request,
            "section_enrollment",
            frame,
            lambda rows, _ex, _e: _v1.enrollment_json(rows, num),
            count=_is_count(request),
        )

    async def single(self, request: Request) -> Response:
        self._v1_allowed()
        kind = request.path_params["kind"]
        dcid = _path_int(request, "id")
        ex = {e.strip().lower() for e in request.query_params.get("expansions", "").split(",")}
        ext_req = [e.strip().lower() for e in request.query_params.get("extensions", "").split(",")]
        num = self.num
        makers: dict[str, tuple[str, str, Callable[[list[dict[str, Any]]], list[Any]]]] = {
            "student": (
                "student",
                "dcid",
                lambda rows: _v1.students_json(
                    rows,
                    ex & set(_v1.STUDENT_EXPANSIONS),
                    [e for e in ext_req if e in _v1.STUDENT_EXTENSIONS],
                    num,
                ),
            ),
            "staff": ("staff", "users_dcid", lambda rows: _v1.staff_json(rows[:1], ex, num)),
            "section": ("section", "dcid", lambda rows: _v1.section_json(rows, ex, num)),
            "term": ("term", "dcid", lambda rows: [_v1.term_json(r, num) for r in rows]),
            "course": ("course", "dcid", lambda rows: _v1.course_json(rows[:1], num)),
            "section_enrollment": (
                "enrollment",
                "dcid",
                lambda rows: _v1.enrollment_json(rows, num),
            ),
        }
        if kind not in makers:
            raise HttpError(404, f"Not Found: {request.url.path}")
        view, key, make = makers[kind]
        rows = self.sim.view(view).filter(pl.col(key) == dcid).head(1).to_dicts()
        if not rows:
            raise HttpError(404, f"{kind} {dcid} not found")
        return json_response({kind: make(rows)[0]})


def _district_uuid(seed: int) -> Any:
    import uuid

    return uuid.uuid5(uuid.NAMESPACE_URL, f"rostersync-simulated-district-{seed}")


class _Tables:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def frame(self, request: Request) -> tuple[str, pl.DataFrame]:
        table = request.path_params["table"].lower()
        frame = self.sim.district.tables.get(table)
        if frame is None:
            raise HttpError(404, f"Table {table} not found")
        return table, frame

    def _check(self, table: str, cols: list[str]) -> None:
        denied = self.sim.plugin.denied(table, cols)
        if denied:
            raise _tables.denied_error(table, denied)

    def _rows(self, request: Request) -> tuple[str, pl.DataFrame]:
        table, frame = self.frame(request)
        q = request.query_params.get("q")
        if q:
            from . import _fiql

            self._check(
                table, [c.lower() for c in _fiql.columns_of(q) if c.lower() in frame.columns]
            )
        frame = _tables.filtered(table, frame, q, allow_or=self.sim.config.fiql_or)
        if self.sim.outage():
            frame = frame.clear()
        return table, frame

    async def list(self, request: Request) -> Response:
        table, frame = self._rows(request)
        cols = _tables.projection(table, frame, request.query_params.get("projection"))
        self._check(table, cols)
        sort = request.query_params.get("sort")
        if sort:
            keys = [s.strip().lower() for s in sort.split(",") if s.strip()]
            unknown = [k for k in keys if k not in frame.columns]
            if unknown:
                raise HttpError(
                    400,
                    "Validation Failed",
                    [
                        {"resource": table, "field": f"{table}.{k}", "code": "Invalid column"}
                        for k in unknown
                    ],
                )
            desc = request.query_params.get("sortdescending", "false").lower() == "true"
            frame = frame.sort(keys, descending=desc)
        else:
            frame = frame.sort(_tables.primary_key(frame))
        page, size = paging(
            request,
            self.sim.config.max_page_sizes.get("schema_table_query", 100),
            self.sim.config.pagesize_over_max,
        )
        rows = frame.slice((page - 1) * size, size)
        return json_response({"name": table.upper(), "record": _tables.records(table, rows, cols)})

    async def names(self, request: Request) -> Response:
        """`GET /ws/schema/table`: the tables the API serves."""
        return json_response({"tables": sorted(t.upper() for t in self.sim.district.tables)})

    async def count(self, request: Request) -> Response:
        _table, frame = self._rows(request)
        return json_response({"count": frame.height})

    async def metadata(self, request: Request) -> Response:
        table, frame = self.frame(request)
        access = {c: self.sim.plugin.level(table, c) for c in frame.columns}
        return json_response(_tables.metadata(table, frame, access))

    async def single(self, request: Request) -> Response:
        table, frame = self.frame(request)
        key_value = _path_int(request, "id")
        key = _tables.primary_key(frame)
        cols = _tables.projection(table, frame, request.query_params.get("projection"))
        self._check(table, cols)
        rows = frame.filter(pl.col(key) == key_value)
        if rows.height == 0:
            raise HttpError(404, f"No record {key_value} in {table}")
        record = _tables.records(table, rows.head(1), cols)[0]
        return json_response(
            {"id": record["id"], "name": table.upper(), "tables": record["tables"]}
        )


__all__ = ["json_body", "routes"]
