"""PowerTeacher Pro grade sync (`/ws/xte`): teacher categories, section assignments and scores.

Assignments and scores are kept in memory per simulator (small data), validated against the
district (teacher, sections, enrollments), and readable again with GET.

Plugin access: an installed plugin (``SimulatorConfig.plugin``) must grant ``FullAccess`` on
``ASSIGNMENTSECTION`` and ``ASSIGNMENTSCORE`` (:data:`WRITE_GRANTS`) for any write here, and
at least ``ViewOnly`` for reads; a refusal is a 403 naming what is missing. The simulator's
default plugin grants grade sync.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import polars as pl
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._http import HttpError, json_body, json_response, path_id

if TYPE_CHECKING:
    from .app import Simulator

Row = dict[str, Any]
CATEGORIES = ("Homework", "Quiz", "Test", "Project")
SCORE_KINDS = ("REAL_SCORE", "COLLECTED", "LATE", "MISSING", "EXEMPT", "INCOMPLETE", "ABSENT")
#: What an installed plugin must grant (table, access) for grade-sync writes.
WRITE_GRANTS = (("ASSIGNMENTSECTION", "FullAccess"), ("ASSIGNMENTSCORE", "FullAccess"))


class Xte:
    """State and handlers of the grade-sync endpoints."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        #: assignmentsectionid → assignment section (as echoed)
        self.sections: dict[int, Row] = {}
        #: (assignmentsectionid, studentsdcid) → score
        self.scores: dict[tuple[int, int], Row] = {}
        #: the same scores by assignment section (reads by assignmentsectionid)
        self._by_section: dict[int, dict[int, Row]] = {}
        self._next = 77_001
        #: (district object, section DCID → enrolled student DCIDs): read once per day
        self._rosters: tuple[object, dict[int, set[int]]] = (None, {})

    def _granted(self, request: Request) -> None:
        """403 unless the installed plugin grants grade sync (reads: any access; writes:
        FullAccess on every table of :data:`WRITE_GRANTS`)."""
        if self.sim.config.plugin is None:
            return
        write = request.method != "GET"
        missing = [
            f"{table} ({access})"
            for table, access in WRITE_GRANTS
            if (level := self.sim.plugin.level(table, "*")) is None or (write and level != access)
        ]
        if missing:
            raise HttpError(
                403,
                "The plugin's access_request does not grant PowerTeacher Pro grade sync: "
                + ", ".join(missing),
            )

    def teacher(self, request: Request) -> int:
        self._granted(request)
        raw = request.query_params.get("users_dcid", "")
        try:
            users_dcid = int(raw)
        except ValueError:
            raise HttpError(
                400, "users_dcid is required (the acting teacher's Users.DCID)"
            ) from None
        if self.sim.district["users"].filter(pl.col("dcid") == users_dcid).height == 0:
            raise HttpError(403, f"users_dcid {users_dcid} is not a staff member")
        return users_dcid

    def categories(self, users_dcid: int) -> list[Row]:
        return [
            {
                "teachercategoryid": users_dcid * 10 + i,
                "name": name,
                "isactive": True,
                "districtteachercategoryid": i + 1,
                "defaultpublishoption": "Immediately",
                "_name": "teachercategory",
                "_id": users_dcid * 10 + i,
                "$breach_mitigation": secrets.token_hex(4),
            }
            for i, name in enumerate(CATEGORIES)
        ]

    async def teacher_category(self, request: Request) -> Response:
        return json_response(self.categories(self.teacher(request)))

    def section_dcids(self) -> set[int]:
        return set(self.sim.district["sections"]["dcid"].to_list())

    async def list_assignments(self, request: Request) -> Response:
        self.teacher(request)
        raw = request.query_params.get("section_ids", "")
        try:
            wanted = {int(s) for s in raw.split(",") if s.strip()}
        except ValueError:
            raise HttpError(400, "section_ids must be a comma list of Sections.DCID") from None
        found = [a for a in self.sections.values() if not wanted or a["sectionsdcid"] in wanted]
        return json_response([{"_assignmentsections": [a]} for a in found])

    def _validate(self, item: Any, users_dcid: int) -> Row:
        if not isinstance(item, dict):
            raise HttpError(400, "each assignment section must be an object")
        missing = [
            k
            for k in ("sectionsdcid", "name", "duedate", "scoretype", "totalpointvalue")
            if item.get(k) in (None, "")
        ]
        if missing:
            raise HttpError(400, f"assignment section lacks {', '.join(missing)}")
        if int(item["sectionsdcid"]) not in self.section_dcids():
            raise HttpError(400, f"no section {item['sectionsdcid']}")
        if str(item["scoretype"]).upper() not in ("POINTS", "PERCENT", "GRADESCALE", "COLLECTED"):
            raise HttpError(400, f"unknown scoretype {item['scoretype']!r}")
        try:
            float(item["totalpointvalue"])
        except (TypeError, ValueError):
            raise HttpError(400, "totalpointvalue must be a number") from None
        allowed = {c["teachercategoryid"] for c in self.categories(users_dcid)}
        for assoc in item.get("_assignmentcategoryassociations") or []:
            if not isinstance(assoc, dict) or assoc.get("teachercategoryid") not in allowed:
                raise HttpError(400, "unknown teachercategoryid in _assignmentcategoryassociations")
        return item

    async def create(self, request: Request) -> Response:
        users_dcid = self.teacher(request)
        body = await json_body(request)
        items = body.get("_assignmentsections") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise HttpError(400, 'Body must be {"_assignmentsections": [...]}')
        checked = [self._validate(i, users_dcid) for i in items]
        out = []
        with self.sim.lock:
            for item in checked:
                ident = self._next
                self._next += 1
                stored = {
                    **item,
                    "assignmentsectionid": ident,
                    "sectionsdcid": int(item["sectionsdcid"]),
                    "_name": "assignmentsection",
                    "_id": ident,
                }
                self.sections[ident] = stored
                out.append(stored)
        return json_response({"_assignmentsections": out}, 201)

    def _existing(self, request: Request) -> int:
        ident = path_id(request.path_params["id"])
        if ident is None:
            raise HttpError(404, "Not Found")
        if ident not in self.sections:
            raise HttpError(404, f"No assignment section {ident}")
        return ident

    async def update(self, request: Request) -> Response:
        users_dcid = self.teacher(request)
        ident = self._existing(request)
        body = await json_body(request)
        items = body.get("_assignmentsections") if isinstance(body, dict) else None
        item = items[0] if isinstance(items, list) and items else body
        merged = self._validate({**self.sections[ident], **(item or {})}, users_dcid)
        self.sections[ident] = {**merged, "assignmentsectionid": ident}
        return json_response({"_assignmentsections": [self.sections[ident]]})

    async def delete(self, request: Request) -> Response:
        self.teacher(request)
        ident = self._existing(request)
        graded = [(ident, student) for student in self._by_section.get(ident, {})]
        force = request.query_params.get("force", "").lower() == "true"
        if graded and not force:
            raise HttpError(
                412,
                f"Assignment section {ident} has {len(graded)} scores; "
                "send force=true to delete it anyway",
            )
        for key in graded:
            self.scores.pop(key)
        self._by_section.pop(ident, None)
        self.sections.pop(ident)
        return Response(status_code=204)

    def _enrolled(self, section_dcid: int) -> set[int]:
        district, known = self._rosters
        if district is not self.sim.district:
            district, known = self._rosters = (self.sim.district, {})
        found = known.get(section_dcid)
        if found is None:
            found = known[section_dcid] = self._read_enrolled(section_dcid)
        return found

    def _read_enrolled(self, section_dcid: int) -> set[int]:
        d = self.sim.district
        section_id = d["sections"].filter(pl.col("dcid") == section_dcid)["id"]
        ids = d["cc"].filter(pl.col("sectionid").is_in(section_id.implode()))["studentid"]
        return set(d["students"].filter(pl.col("id").is_in(ids.implode()))["dcid"].to_list())

    async def put_scores(self, request: Request) -> Response:
        self.teacher(request)
        body = await json_body(request)
        scores = body.get("assignment_scores") if isinstance(body, dict) else None
        if not isinstance(scores, list):
            raise HttpError(400, 'Body must be {"assignment_scores": [...]}')
        problems, accepted = [], []
        for index, score in enumerate(scores):
            where = f"assignment_scores[{index}]"
            if not isinstance(score, dict):
                raise HttpError(400, f"{where} must be an object")
            section = (score.get("_assignmentsection") or {}).get("assignmentsectionid")
            if section not in self.sections:
                problems.append(f"{where}: unknown assignmentsectionid {section}")
                continue
            student = score.get("studentsdcid")
            if student not in self._enrolled(self.sections[section]["sectionsdcid"]):
                problems.append(f"{where}: student {student} is not enrolled in the section")
                continue
            kind = score.get("actualscorekind", "REAL_SCORE")
            if kind not in SCORE_KINDS:
                problems.append(f"{where}: unknown actualscorekind {kind}")
                continue
            accepted.append((section, int(student), score))
        if problems:
            raise HttpError(
                409,
                "Validation Failed",
                [
                    {"resource": "assignment_scores", "field": p.split(":")[0], "code": p}
                    for p in problems
                ],
            )
        with self.sim.lock:
            for section, student, score in accepted:
                self.scores[(section, student)] = score
                self._by_section.setdefault(section, {})[student] = score
        return json_response({"assignment_scores": [s for _a, _b, s in accepted]})

    async def get_scores(self, request: Request) -> Response:
        self.teacher(request)
        raw = request.query_params.get("assignmentsectionid", "")
        try:
            wanted = {int(s) for s in raw.split(",") if s.strip()}
        except ValueError:
            raise HttpError(400, "assignmentsectionid must be a comma list of integers") from None
        if wanted:
            by_section = self._by_section
            found = [s for a in sorted(wanted) for s in by_section.get(a, {}).values()]
        else:
            found = list(self.scores.values())
        return json_response({"assignment_scores": found})


def routes(sim: Simulator, r: Any) -> list[Route]:
    xte = Xte(sim)
    return [
        r("/ws/xte/teacher_category", xte.teacher_category),
        r("/ws/xte/section/assignment", xte.list_assignments),
        r("/ws/xte/section/assignment/", xte.list_assignments),
        r("/ws/xte/section/assignment", xte.create, ("POST",)),
        r("/ws/xte/section/assignment/", xte.create, ("POST",)),
        r("/ws/xte/section/assignment/{id}", xte.update, ("PUT",)),
        r("/ws/xte/section/assignment/{id}", xte.delete, ("DELETE",)),
        r("/ws/xte/score", xte.put_scores, ("PUT",)),
        r("/ws/xte/score", xte.get_scores),
    ]
