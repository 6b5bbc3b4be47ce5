"""2-way sync, the PowerSchool side: PowerTeacher Pro's grade-sync endpoints (``/ws/xte``).

Line items become section assignments, results become scores. Every call goes through the
connector's :class:`ApiSession` (bounded concurrency, the configured minimum request interval,
retries with backoff on 5xx/timeouts/throttling), and acts as a teacher (``users_dcid``).
PowerSchool's refusals (409 validation, 412 an assignment with scores, 400) come back as an
:class:`Answer` for the write-back log; a 403 means the plugin does not grant grade sync and
raises :class:`WriteAccessNotGranted` naming the grants (:data:`WRITE_ACCESS`).

Idempotency: an assignment carries its line item's sourcedId in a marker at the end of its
description, so a create whose answer was lost is found again (:func:`marker_of`) instead of
being created twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from rostersync.connectors.powerschool._http import ApiSession
from rostersync.errors import SourceAuthError

#: What the plugin's ``<access_request>`` must grant for grade write-back (table, access).
WRITE_ACCESS: tuple[tuple[str, str], ...] = (
    ("ASSIGNMENTSECTION", "FullAccess"),
    ("ASSIGNMENTSCORE", "FullAccess"),
)
ASSIGNMENTS = "/ws/xte/section/assignment/"
SCORES = "/ws/xte/score"
#: Scores of students whose enrollment is active, inactive or pending (PowerSchool's filter).
STATUS_FILTER = "A,I,P"
_MARKER = re.compile(r"\[rostersync:([0-9A-Za-z.\-_/@]{1,255})\]\s*$")


class WriteAccessNotGranted(SourceAuthError):
    """The plugin does not grant PowerTeacher Pro grade sync (a 403 from ``/ws/xte``)."""


def marker(sourced_id: str) -> str:
    return f"[rostersync:{sourced_id}]"


def marker_of(assignment: dict[str, Any]) -> str | None:
    """The line item sourcedId an assignment was created for, if it carries our marker."""
    found = _MARKER.search(str(assignment.get("description") or ""))
    return found.group(1) if found else None


def grants_text() -> str:
    return ", ".join(f'<field table="{t}" field="*" access="{a}"/>' for t, a in WRITE_ACCESS)


@dataclass(frozen=True)
class Answer:
    """PowerSchool's answer to one write: status and decoded body (text if not JSON)."""

    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return self.status < 400

    def summary(self, limit: int = 300) -> str:
        """``HTTP status: body`` cut to ``limit`` characters (a success's echo is left out)."""
        if self.ok:
            return f"HTTP {self.status}"
        text = self.body if isinstance(self.body, str) else repr(self.body)
        return f"HTTP {self.status}: {text[:limit]}"


class GradeSync:
    """The grade-sync calls of one PowerSchool source."""

    def __init__(self, session: ApiSession) -> None:
        self.session = session

    async def _call(
        self,
        method: str,
        path: str,
        users_dcid: int | None,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> Answer:
        query = {**({"users_dcid": str(users_dcid)} if users_dcid else {}), **(params or {})}
        got = await self.session.request(method, path, params=query, json=json, refusals=True)
        if isinstance(got, httpx.Response):
            try:
                body: Any = got.json()
            except ValueError:
                body = got.text
            if got.status_code == 403:
                raise WriteAccessNotGranted(
                    f"PowerSchool refused grade sync ({method} {path}): "
                    + (body.get("message", "") if isinstance(body, dict) else str(body))[:200],
                    source=self.session.source,
                    hint="sync_mode two_way needs the plugin to grant " + grants_text() + "; "
                    "regenerate it with `rostersync powerschool plugin --config FILE --out "
                    "plugin.zip` and install it",
                )
            return Answer(got.status_code, body)
        return Answer(204 if got is None else 200, got)

    async def probe(self) -> None:
        """Check that the plugin grants grade-sync writes, changing nothing: an empty score
        write without an acting teacher is refused for want of a teacher (400) when access is
        granted, and for want of access (403, :class:`WriteAccessNotGranted`) when not."""
        await self._call(
            "PUT", SCORES, None, params={"status": STATUS_FILTER}, json={"assignment_scores": []}
        )

    async def categories(self, users_dcid: int) -> list[dict[str, Any]]:
        answer = await self._call("GET", "/ws/xte/teacher_category", users_dcid)
        return [c for c in answer.body or [] if isinstance(c, dict)] if answer.ok else []

    async def assignments(self, users_dcid: int, sections: Iterable[int]) -> list[dict[str, Any]]:
        ids = ",".join(str(s) for s in sorted(set(sections)))
        answer = await self._call("GET", ASSIGNMENTS, users_dcid, params={"section_ids": ids})
        out: list[dict[str, Any]] = []
        for wrapper in answer.body or [] if answer.ok else []:
            items = wrapper.get("_assignmentsections") if isinstance(wrapper, dict) else None
            out += [a for a in items or [] if isinstance(a, dict)]
        return out

    async def create(self, users_dcid: int, assignments: Sequence[dict[str, Any]]) -> Answer:
        return await self._call(
            "POST", ASSIGNMENTS, users_dcid, json={"_assignmentsections": list(assignments)}
        )

    async def update(self, users_dcid: int, ident: int, assignment: dict[str, Any]) -> Answer:
        return await self._call(
            "PUT", f"{ASSIGNMENTS}{ident}", users_dcid, json={"_assignmentsections": [assignment]}
        )

    async def delete(self, users_dcid: int, ident: int, *, force: bool = False) -> Answer:
        params = {"force": "true"} if force else None
        return await self._call("DELETE", f"{ASSIGNMENTS}{ident}", users_dcid, params=params)

    async def scores(self, users_dcid: int, assignment_ids: Iterable[int]) -> list[dict[str, Any]]:
        ids = ",".join(str(i) for i in sorted(set(assignment_ids)))
        if not ids:
            return []
        answer = await self._call("GET", SCORES, users_dcid, params={"assignmentsectionid": ids})
        body = answer.body if answer.ok and isinstance(answer.body, dict) else {}
        return [s for s in body.get("assignment_scores") or [] if isinstance(s, dict)]

    async def put_scores(self, users_dcid: int, scores: Sequence[dict[str, Any]]) -> Answer:
        return await self._call(
            "PUT",
            SCORES,
            users_dcid,
            params={"status": STATUS_FILTER},
            json={"assignment_scores": list(scores)},
        )
