"""Gradebook in import mode: PowerTeacher Pro's teacher categories, section assignments and
scores read through the grade-sync endpoints (``/ws/xte``) and turned into OneRoster gradebook
objects (categories, line items, results), so apps read teachers' grades over the Gradebook
service.

IDs: ``ps-category-<teachercategoryid>``, ``ps-assignment-<assignmentsectionid>``,
``ps-score-<assignmentsectionid>-<studentsdcid>``. Assignments that carry our write-back marker
are apps' own line items written back, and are not read again as new ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rostersync.connectors.powerschool.writeback import GradeSync, marker_of


@dataclass(frozen=True)
class ClassInSis:
    """A roster class as PowerSchool knows it: section DCID, lead teacher, school, term, and
    its students (STUDENTS.DCID → the roster's user sourcedId)."""

    sourced_id: str
    section: int
    teacher: int
    school: str
    term: str | None
    students: Mapping[int, str]


@dataclass
class SisGradebook:
    """Gradebook objects read from the SIS: kind → sourcedId → body."""

    objects: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {"categories": {}, "lineItems": {}, "results": {}}
    )


def _status(score: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(score.get("actualscorekind") or "REAL_SCORE")
    entered = str(score.get("actualscoreentered") or "")
    out: dict[str, Any] = {}
    if kind == "EXEMPT":
        out["scoreStatus"] = "exempt"
    elif kind == "MISSING":
        out.update(scoreStatus="not submitted", missing="true")
    else:
        out["scoreStatus"] = "fully graded" if entered else "not submitted"
        if kind == "LATE":
            out["late"] = "true"
        if kind == "INCOMPLETE":
            out["incomplete"] = "true"
    if entered:
        try:
            out["score"] = float(entered) if "." in entered else int(entered)
        except ValueError:
            out["textScore"] = entered
    return out


async def read_gradebook(
    sync: GradeSync, classes: Mapping[str, ClassInSis], today: date
) -> SisGradebook:
    """Every teacher's categories, and the assignments and scores of the given classes."""
    found = SisGradebook()
    by_teacher: dict[int, list[ClassInSis]] = {}
    for klass in classes.values():
        by_teacher.setdefault(klass.teacher, []).append(klass)
    for teacher, mine in sorted(by_teacher.items()):
        for category in await sync.categories(teacher):
            ident = category.get("teachercategoryid")
            if ident is not None and category.get("name"):
                found.objects["categories"][f"ps-category-{ident}"] = {"title": category["name"]}
        by_section = {k.section: k for k in mine}
        assignments = await sync.assignments(teacher, by_section)
        mirrored: dict[int, ClassInSis] = {}
        for a in assignments:
            section = by_section.get(int(a.get("sectionsdcid") or 0))
            ident = a.get("assignmentsectionid")
            if section is None or ident is None or marker_of(a) is not None:
                continue
            klass = section
            due = str(a.get("duedate") or today.isoformat())[:10]
            assocs = a.get("_assignmentcategoryassociations") or []
            primary = next((c for c in assocs if c.get("isprimary")), assocs[0] if assocs else {})
            body: dict[str, Any] = {
                "title": str(a.get("name") or f"Assignment {ident}"),
                "assignDate": f"{due}T00:00:00.000Z",
                "dueDate": f"{due}T23:59:59.000Z",
                "class": klass.sourced_id,
                "school": klass.school,
                "category": f"ps-category-{primary.get('teachercategoryid')}",
                "resultValueMin": 0,
            }
            if klass.term:
                body["academicSession"] = klass.term
            total = a.get("totalpointvalue")
            if isinstance(total, int | float):
                body["resultValueMax"] = total
            found.objects["lineItems"][f"ps-assignment-{ident}"] = body
            mirrored[int(ident)] = klass
        for score in await sync.scores(teacher, mirrored):
            ident = (score.get("_assignmentsection") or {}).get("assignmentsectionid")
            owner = mirrored.get(int(ident or 0))
            student = owner.students.get(int(score.get("studentsdcid") or 0)) if owner else None
            if owner is None or student is None:
                continue
            found.objects["results"][f"ps-score-{ident}-{score['studentsdcid']}"] = {
                "lineItem": f"ps-assignment-{ident}",
                "student": student,
                "class": owner.sourced_id,
                "scoreDate": today.isoformat(),
                **_status(score),
            }
    return found
