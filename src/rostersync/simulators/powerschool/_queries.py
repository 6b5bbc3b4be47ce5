"""PowerQueries (`POST /ws/schema/query/{name}` and `/count`): the core named queries a roster
sync uses, plus any query in the installed plugin's ``queries_root/``.

A query's SQL runs on the district's tables with Polars SQL after its ``:arg`` bind variables are
replaced by literals. Arguments, ``$q`` (AND only, on ``table.column`` names), ``projection``
(semicolon list), ``order``, paging (``pagesize=0`` = all rows), ``count=true`` and
``$dataversion`` behave as the reference describes; every column read must be granted.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import polars as pl
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import _fiql
from ._http import HttpError, int_param, json_body, json_response
from ._tables import as_strings
from .plugin import NamedQuery, QueryArg

if TYPE_CHECKING:
    from .app import Simulator

P = "com.pearson.core."


def _q(
    name: str,
    core: str,
    columns: list[tuple[str, str]],
    sql: str,
    args: tuple[QueryArg, ...] = (),
    record_name: str = "",
) -> NamedQuery:
    return NamedQuery(P + name, core, False, args, tuple(columns), sql, record_name)


#: The core queries seen in use by clients (reference §5), over the simulator's tables.
CORE_QUERIES: dict[str, NamedQuery] = {
    q.name: q
    for q in (
        _q(
            "student.student_dcid_id_map",
            "STUDENTS",
            [("STUDENTS.DCID", "dcid"), ("STUDENTS.ID", "id")],
            "select s.dcid, s.id from students s order by s.dcid",
        ),
        _q(
            "guardian.student_guardian_detail",
            "STUDENTS",
            [
                ("STUDENTS.DCID", "dcid"),
                ("STUDENTS.ID", "id"),
                ("STUDENTS.STUDENT_NUMBER", "student_number"),
                ("STUDENTS.FIRST_NAME", "first_name"),
                ("STUDENTS.LAST_NAME", "last_name"),
                ("STUDENTCONTACTASSOC.PERSONID", "guardian_id"),
            ],
            "select s.dcid, s.id, s.student_number, s.first_name, s.last_name, a.personid "
            "from students s join studentcontactassoc a on a.studentdcid = s.dcid "
            "where a.personid in :guardian_id order by a.personid, s.dcid",
            (QueryArg("guardian_id", "STUDENTCONTACTASSOC.PERSONID", True, "array"),),
            "Students",
        ),
        _q(
            "teachers.sectionEnrollments",
            "CC",
            [
                ("CC.DCID", "dcid"),
                ("CC.ID", "id"),
                ("STUDENTS.DCID", "studentsdcid"),
                ("STUDENTS.STUDENT_NUMBER", "student_number"),
                ("CC.DATEENROLLED", "dateenrolled"),
                ("CC.DATELEFT", "dateleft"),
                ("SECTIONS.DCID", "sectionsdcid"),
            ],
            "select cc.dcid, cc.id, s.dcid as studentsdcid, s.student_number, cc.dateenrolled, "
            "cc.dateleft, se.dcid as sectionsdcid from cc "
            "join students s on s.id = cc.studentid join sections se on se.id = abs(cc.sectionid) "
            "where se.dcid = :section_dcid order by cc.dcid",
            (QueryArg("section_dcid", "SECTIONS.DCID", True),),
        ),
        _q(
            "terms.yearid",
            "TERMS",
            [("TERMS.YEARID", "yearid")],
            "select t.yearid from terms t where t.schoolid = :schoolid and t.isyearrec = 1 "
            "and t.firstday <= :currentdate and t.lastday >= :currentdate order by t.yearid",
            (
                QueryArg("schoolid", "TERMS.SCHOOLID", True),
                QueryArg("currentdate", "TERMS.FIRSTDAY", True),
            ),
        ),
        _q(
            "terms.year_terms",
            "TERMS",
            [
                ("TERMS.DCID", "dcid"),
                ("TERMS.ID", "id"),
                ("TERMS.NAME", "name"),
                ("TERMS.ABBREVIATION", "abbreviation"),
                ("TERMS.FIRSTDAY", "firstday"),
                ("TERMS.LASTDAY", "lastday"),
                ("TERMS.PORTION", "portion"),
                ("TERMS.ISYEARREC", "isyearrec"),
            ],
            "select t.dcid, t.id, t.name, t.abbreviation, t.firstday, t.lastday, t.portion, "
            "t.isyearrec from terms t where t.schoolid = :schoolid and t.yearid = :yearid "
            "order by t.portion, t.firstday, t.id",
            (
                QueryArg("schoolid", "TERMS.SCHOOLID", True),
                QueryArg("yearid", "TERMS.YEARID", True),
            ),
        ),
        _q(
            "school.school_detail",
            "SCHOOLS",
            [
                ("SCHOOLS.DCID", "dcid"),
                ("SCHOOLS.ID", "id"),
                ("SCHOOLS.NAME", "name"),
                ("SCHOOLS.SCHOOL_NUMBER", "school_number"),
                ("SCHOOLS.LOW_GRADE", "low_grade"),
                ("SCHOOLS.HIGH_GRADE", "high_grade"),
            ],
            "select sc.dcid, sc.id, sc.name, sc.school_number, sc.low_grade, sc.high_grade "
            "from schools sc where sc.school_number = :school_number order by sc.dcid",
            (QueryArg("school_number", "SCHOOLS.SCHOOL_NUMBER", True),),
        ),
        _q(
            "schools.grade_levels",
            "STUDENTS",
            [("STUDENTS.SCHOOLID", "schoolid"), ("STUDENTS.GRADE_LEVEL", "grade_level")],
            "select distinct s.schoolid, s.grade_level from students s where s.enroll_status = 0 "
            "order by s.schoolid, s.grade_level",
        ),
        _q(
            "calendar.district_cycle_days",
            "CALENDAR_DAY",
            [("CALENDAR_DAY.SCHOOLID", "schoolid"), ("CALENDAR_DAY.CYCLE_DAY_ID", "cycle_day_id")],
            "select distinct c.schoolid, c.cycle_day_id from calendar_day c "
            "where c.cycle_day_id > 0 order by c.schoolid, c.cycle_day_id",
        ),
        _q(
            "student.search.get_student_basic_info",
            "STUDENTS",
            [
                ("STUDENTS.DCID", "dcid"),
                ("STUDENTS.ID", "id"),
                ("STUDENTS.STUDENT_NUMBER", "student_number"),
                ("STUDENTS.FIRST_NAME", "first_name"),
                ("STUDENTS.LAST_NAME", "last_name"),
                ("STUDENTS.GRADE_LEVEL", "grade_level"),
                ("STUDENTS.SCHOOLID", "schoolid"),
            ],
            "select s.dcid, s.id, s.student_number, s.first_name, s.last_name, s.grade_level, "
            "s.schoolid from students s where s.dcid = :studentdcid",
            (QueryArg("studentdcid", "STUDENTS.DCID", True),),
        ),
    )
}
SPECIAL = {"$q", "projection", "$dataversion", "$dataversion_applicationname"}
_BIND = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _error(name: str, status: int, code: str, field: str = "") -> HttpError:
    return HttpError(
        status, "Validation Failed", [{"resource": name, "field": field, "code": code}]
    )


def _literal(value: Any, arg: QueryArg, query: str) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        raise _error(query, 400, f"invalid value for argument {arg.name}", arg.name)
    text = str(value)
    if arg.casing == "upper":
        text = text.upper()
    elif arg.casing == "lower":
        text = text.lower()
    if re.fullmatch(r"-?\d+", text):
        return text
    if _DATE.match(text):
        return f"DATE '{text}'"
    return "'" + text.replace("'", "''") + "'"


def bind(query: NamedQuery, body: dict[str, Any]) -> str:
    """The query's SQL with every `:arg` replaced by a safely quoted literal (400 on bad args)."""
    declared = {a.name.lower(): a for a in query.args}
    unknown = [k for k in body if k.lower() not in declared and k not in SPECIAL]
    if unknown:
        raise _error(query.name, 400, f"unknown argument {unknown[0]}", unknown[0])
    values: dict[str, str] = {}
    given = {k.lower(): v for k, v in body.items() if k not in SPECIAL}
    for name, arg in declared.items():
        value = given.get(name, arg.default)
        if value is None or value == "":
            if arg.required:
                raise _error(query.name, 400, f"missing required argument {arg.name}", arg.name)
            values[name] = "NULL"
            continue
        if arg.type == "array":
            if not isinstance(value, list) or not value:
                raise _error(query.name, 400, f"argument {arg.name} must be a JSON array", arg.name)
            values[name] = "(" + ", ".join(_literal(v, arg, query.name) for v in value) + ")"
        else:
            if isinstance(value, list):
                raise _error(query.name, 400, f"argument {arg.name} must not be an array", arg.name)
            values[name] = _literal(value, arg, query.name)
    return _BIND.sub(lambda m: values.get(m.group(1).lower(), m.group(0)), query.sql)


class Queries:
    """Runs named queries for one simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def find(self, name: str) -> NamedQuery:
        query = self.sim.plugin.queries.get(name) or CORE_QUERIES.get(name)
        if query is None:
            raise HttpError(404, f"Named query {name} not found")
        return query

    def check_access(self, query: NamedQuery) -> None:
        denied = []
        for column, _alias in query.columns:
            table, _, col = column.partition(".")
            if self.sim.plugin.level(table, col) is None:
                denied.append(column)
        if denied:
            raise HttpError(
                403,
                "Validation Failed",
                [
                    {"resource": query.name, "field": c, "code": "No access to the field"}
                    for c in denied
                ],
            )

    def run(self, query: NamedQuery, body: dict[str, Any]) -> pl.DataFrame:
        """All result rows, columns named by their `table.column` (lower case)."""
        sql = bind(query, body)
        context = pl.SQLContext(frames=self.sim.district.tables, eager=True)
        try:
            frame = context.execute(sql, eager=True)
        except Exception as exc:  # Polars raises many error types for SQL it cannot run
            raise HttpError(400, f"Query {query.name} could not be run: {exc}") from None
        names = [c.lower() for c, _ in query.columns]
        if frame.width != len(names):
            raise HttpError(
                400,
                f"Query {query.name}: the SQL returns {frame.width} columns, "
                f"<columns> declares {len(names)}",
            )
        return frame.rename(dict(zip(frame.columns, names, strict=True)))

    def filter(self, query: NamedQuery, frame: pl.DataFrame, q: str | None) -> pl.DataFrame:
        if not q:
            return frame
        if "," in q.replace("\\,", ""):
            raise _error(query.name, 400, "OR (,) is not supported in $q", "$q")
        exprs = []
        for clause in q.split(";"):
            if "==\u0000" in clause or "==\\u0000" in clause:
                col = clause.split("==", 1)[0].strip().lower()
                if col not in frame.columns:
                    raise _error(query.name, 400, f"unknown column {col} in $q", "$q")
                exprs.append(pl.col(col).is_null() | (pl.col(col).cast(pl.Utf8) == ""))
                continue
            fields = {c: _fiql.Target(c) for c in frame.columns}
            try:
                exprs.append(_fiql.to_expr(clause, fields, frame.schema))
            except _fiql.FiqlError as exc:
                raise _error(query.name, 400, str(exc), "$q") from None
        for expr in exprs:
            frame = frame.filter(expr)
        return frame

    def changed_only(
        self, query: NamedQuery, frame: pl.DataFrame, body: dict[str, Any]
    ) -> tuple[pl.DataFrame, str | None]:
        version, app = body.get("$dataversion"), body.get("$dataversion_applicationname")
        if version is None and app is None:
            return frame, None
        if version is None or app is None:
            raise _error(
                query.name,
                400,
                "$dataversion and $dataversion_applicationname must be given together",
                "$dataversion",
            )
        from . import _dataversion

        changed = _dataversion.changed_keys(self.sim, str(app), str(version))
        if str(version) == "0" and self.sim.config.dataversion_zero_is_full:
            return frame, _dataversion.current(self.sim)
        keep = pl.lit(False)
        for column in frame.columns:
            table, _, col = column.partition(".")
            keys = changed.get(table)
            if keys is not None and col in ("dcid", "studentsdcid", "id"):
                keep = keep | pl.col(column).is_in(keys)
        return frame.filter(keep), _dataversion.current(self.sim)

    async def handle(self, request: Request) -> Response:
        name = request.path_params["name"]
        count_only = request.url.path.rstrip("/").endswith("/count")
        query = self.find(name)
        body = await json_body(request)
        if not isinstance(body, dict):
            raise _error(name, 400, "the body must be a JSON object")
        self.check_access(query)
        frame = self.run(query, body)
        frame = self.filter(query, frame, body.get("$q") or request.query_params.get("$q"))
        frame, version = self.changed_only(query, frame, body)
        if self.sim.outage():
            frame = frame.clear()
        if count_only:
            return json_response({"count": frame.height})
        frame = self.order(query, frame, request.query_params.get("order"))
        total = frame.height
        page = int_param(request, "page", 1)
        size = int_param(request, "pagesize", 100)
        if self.sim.config.powerquery_page_cap:
            cap = self.sim.config.max_page_sizes.get("schema_table_query", 100)
            size = cap if size <= 0 else min(size, cap)
        if size > 0:
            frame = frame.slice((max(page, 1) - 1) * size, size)
        columns = self.projection(query, frame, body.get("projection"))
        out: dict[str, Any] = {
            "name": query.record_name or query.core_table.capitalize(),
            "record": self.records(query, frame.select(columns)),
            "@extensions": "",
        }
        if request.query_params.get("count", "").lower() == "true":
            out["count"] = total
        if version is not None:
            out["$dataversion"] = version
        return json_response(out)

    def order(self, query: NamedQuery, frame: pl.DataFrame, order: str | None) -> pl.DataFrame:
        if not order:
            return frame
        keys, desc = [], []
        for part in order.split(","):
            column, _, direction = part.partition(";")
            column = column.strip().lower()
            if column not in frame.columns:
                raise _error(query.name, 400, f"unknown order column {column}", "order")
            keys.append(column)
            desc.append(direction.strip().lower() == "desc")
        return frame.sort(keys, descending=desc, maintain_order=True)

    def projection(self, query: NamedQuery, frame: pl.DataFrame, raw: Any) -> list[str]:
        if not raw:
            return frame.columns
        wanted: list[str] = []
        for part in str(raw).split(";"):
            part = part.strip().lower()
            if part.endswith(".*"):
                wanted += [c for c in frame.columns if c.startswith(part[:-1])]
            elif part in frame.columns:
                wanted.append(part)
            elif part:
                raise _error(query.name, 400, f"unknown projection column {part}", "projection")
        return list(dict.fromkeys(wanted))

    def records(self, query: NamedQuery, frame: pl.DataFrame) -> list[dict[str, Any]]:
        aliases = {c.lower(): a for c, a in query.columns}
        rows = as_strings(frame).to_dicts()
        if query.flattened:
            return [{aliases[k]: v for k, v in row.items()} for row in rows]
        out = []
        for row in rows:
            tables: dict[str, dict[str, str]] = {}
            for key, value in row.items():
                table, _, col = key.partition(".")
                tables.setdefault(table, {})[col] = value
            out.append({"tables": tables})
        return out


def routes(sim: Simulator, r: Any) -> list[Route]:
    queries = Queries(sim)

    async def installed(request: Request) -> Response:
        """`GET /ws/schema/query/api`: the installed named queries and their arguments."""
        every = {**CORE_QUERIES, **sim.plugin.queries}
        return json_response(
            {
                "queries": [
                    {
                        "name": q.name,
                        "coreTable": q.core_table,
                        "flattened": q.flattened,
                        "args": [
                            {"name": a.name, "required": a.required, "type": a.type} for a in q.args
                        ],
                    }
                    for q in sorted(every.values(), key=lambda q: q.name)
                ]
            }
        )

    return [
        r("/ws/schema/query/api", installed),
        r("/ws/schema/query/{name}", queries.handle, ("POST",)),
        r("/ws/schema/query/{name}/count", queries.handle, ("POST",)),
    ]
