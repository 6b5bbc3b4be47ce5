"""Gradebook writes checked against what they refer to: a line item's class, school, category
and grading period, a result's line item, student (enrolled in the class) and score scale.

Sharing rules apply to writes as to reads: an app writes only into classes and for students it
may see, so a class or student hidden from it is "not found" (never confirmed to exist).
Missing but derivable references are filled: a line item's school is its class's school, its
academic session the class's first term; a result's class is its line item's class.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from rostersync.export.oneroster.gradebook_model import Kind, Problems
from rostersync.export.oneroster.query import Scope
from rostersync.store.schema import gradebook_objects, roster_tables


def roster_row(
    conn: sa.Connection, entity: str, sourced_id: str, scope: Scope, *columns: str
) -> sa.Row[Any] | None:
    """A current, visible roster record's ``columns`` (``None`` if absent or hidden)."""
    t = roster_tables[entity]
    return conn.execute(
        sa.select(*(t.c[c] for c in ("sourcedId", *columns))).where(
            t.c.district_id == scope.district_id,
            t.c.valid_to.is_(None),
            t.c.sourcedId == sourced_id,
            scope.sharing.sql_condition(entity, roster_tables, scope.district_id),
        )
    ).first()


def gradebook_row(
    conn: sa.Connection, district_id: int, kind: Kind, sourced_id: str
) -> sa.Row[Any] | None:
    """An active gradebook object (``None`` if absent or deleted)."""
    g = gradebook_objects.c
    return conn.execute(
        sa.select(gradebook_objects).where(
            g.district_id == district_id,
            g.kind == kind,
            g.sourcedId == sourced_id,
            g.status == "active",
        )
    ).first()


def enrolled_student(conn: sa.Connection, class_id: str, student_id: str, scope: Scope) -> bool:
    e = roster_tables["enrollments"]
    found = conn.execute(
        sa.select(e.c.sourcedId)
        .where(
            e.c.district_id == scope.district_id,
            e.c.valid_to.is_(None),
            e.c.classSourcedId == class_id,
            e.c.userSourcedId == student_id,
            e.c.role == "student",
        )
        .limit(1)
    ).first()
    return found is not None


def _terms(row: sa.Row[Any]) -> Sequence[str]:
    raw = row._mapping["termSourcedIds"]
    return json.loads(raw) if isinstance(raw, str) else list(raw or [])


def _line_item(
    conn: sa.Connection, body: dict[str, Any], scope: Scope, where: str, problems: Problems
) -> None:
    klass = None
    if "class" in body:
        klass = roster_row(
            conn, "classes", body["class"], scope, "schoolSourcedId", "termSourcedIds"
        )
    if klass is None and "class" in body:
        problems.append(f"{where}.class: no class {body['class']!r} this client may see")
    elif klass is not None:
        school = klass._mapping["schoolSourcedId"]
        if body.get("school") is None:
            body["school"] = school
        elif body["school"] != school:
            problems.append(
                f"{where}.school: {body['school']!r} is not the school of class {body['class']!r}"
                f" ({school!r})"
            )
        terms = _terms(klass)
        if body.get("gradingPeriod") is None and body.get("academicSession") is None and terms:
            body["academicSession"] = terms[0]
    category = body.get("category")
    if (
        category is not None
        and gradebook_row(conn, scope.district_id, "categories", category) is None
    ):
        problems.append(f"{where}.category: no category {body['category']!r}; PUT it first")
    for name in ("gradingPeriod", "academicSession"):
        sid = body.get(name)
        if sid is not None and roster_row(conn, "academicSessions", sid, scope) is None:
            problems.append(f"{where}.{name}: no academic session {sid!r}")
    scale = body.get("scoreScale")
    if scale is not None and gradebook_row(conn, scope.district_id, "scoreScales", scale) is None:
        problems.append(f"{where}.scoreScale: no score scale {scale!r}")


def _result(
    conn: sa.Connection, body: dict[str, Any], scope: Scope, where: str, problems: Problems
) -> None:
    item = None
    if "lineItem" in body:
        item = gradebook_row(conn, scope.district_id, "lineItems", body["lineItem"])
    class_id: str | None = None
    if item is None and "lineItem" in body:
        problems.append(f"{where}.lineItem: no line item {body['lineItem']!r}; PUT it first")
    elif item is not None:
        class_id = item._mapping["classSourcedId"]
        if roster_row(conn, "classes", class_id or "", scope) is None:
            problems.append(f"{where}.lineItem: its class is not visible to this client")
            class_id = None
        elif body.get("class") is None:
            body["class"] = class_id
        elif body["class"] != class_id:
            problems.append(
                f"{where}.class: {body['class']!r} is not the class of line item "
                f"{body['lineItem']!r} ({class_id!r})"
            )
        low = json.loads(item._mapping["body"]).get("resultValueMin")
        score = body.get("score")
        if low is not None and score is not None and score < low:
            problems.append(f"{where}.score: {score} is below the line item's resultValueMin {low}")
    student = roster_row(conn, "users", body.get("student", ""), scope, "role")
    if "student" not in body:
        pass
    elif student is None or student._mapping["role"] != "student":
        problems.append(f"{where}.student: no student {body['student']!r} this client may see")
    elif class_id is not None and not enrolled_student(conn, class_id, body["student"], scope):
        problems.append(f"{where}.student: {body['student']!r} is not enrolled in {class_id!r}")
    unscored = body.get("score") is None and body.get("textScore") is None
    if unscored and body.get("scoreStatus") in ("fully graded", "partially graded"):
        problems.append(f"{where}.score: a {body['scoreStatus']} result needs a score")
    scale_id = body.get("scoreScale")
    if scale_id is not None:
        scale = gradebook_row(conn, scope.district_id, "scoreScales", scale_id)
        if scale is None:
            problems.append(f"{where}.scoreScale: no score scale {scale_id!r}")
        elif body.get("textScore") is not None:
            values = [
                v["itemValueLHS"] for v in json.loads(scale._mapping["body"])["scoreScaleValue"]
            ]
            if body["textScore"] not in values:
                problems.append(
                    f"{where}.textScore: {body['textScore']!r} is not a value of score scale "
                    f"{scale_id!r} ({', '.join(values)})"
                )


def _score_scale(
    conn: sa.Connection, body: dict[str, Any], scope: Scope, where: str, problems: Problems
) -> None:
    if "class" in body and roster_row(conn, "classes", body["class"], scope) is None:
        problems.append(f"{where}.class: no class {body['class']!r} this client may see")
    course = body.get("course")
    if course is not None and roster_row(conn, "courses", course, scope) is None:
        problems.append(f"{where}.course: no course {course!r}")


def check_references(
    conn: sa.Connection, kind: Kind, body: dict[str, Any], scope: Scope, where: str
) -> Problems:
    """Problems with what ``body`` refers to; fills derivable references into ``body``."""
    problems = Problems()
    if kind == "lineItems":
        _line_item(conn, body, scope, where, problems)
    elif kind == "results":
        _result(conn, body, scope, where, problems)
    elif kind == "scoreScales":
        _score_scale(conn, body, scope, where, problems)
    return problems
