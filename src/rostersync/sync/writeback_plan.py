"""2-way sync, the plan: which line items and results must be written back to the SIS, and how.

Pure: it reads the published roster (Polars tables), the gradebook objects and the links of
earlier write-backs, and decides. A line item becomes a section assignment of the class's
lead teacher in the teacher category of the same name (else the teacher's first category); a
result becomes a score. What was written is remembered as a digest of the payload, so an
unchanged object is never written again and a rerun changes nothing in the SIS.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from rostersync.connectors.powerschool.writeback import marker
from rostersync.export.oneroster.gradebook_store import Stored
from rostersync.model import Roster


def digest(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Link:
    """An earlier write-back: the SIS id an object became, the digest written, the SIS value
    seen then (scores)."""

    sis_id: str
    written: str
    seen: str | None


@dataclass(frozen=True)
class Section:
    """What a class is in the SIS: its section DCID, lead teacher (USERS.DCID), students."""

    dcid: int
    teacher: int
    students: Mapping[str, int]


def sections_of(roster: Roster) -> dict[str, Section]:
    """class sourcedId → section, for classes with a lead teacher (``sourceId`` holds the raw
    SIS keys: the section's DCID, the teacher's USERS.DCID, the student's DCID)."""
    classes = roster["classes"].select("sourcedId", pl.col("sourceId").alias("section"))
    users = roster["users"].select(
        pl.col("sourcedId").alias("userSourcedId"), pl.col("sourceId").alias("dcid")
    )
    enr = roster["enrollments"].join(users, on="userSourcedId", how="inner")
    leads = (
        enr.filter(pl.col("role") == "teacher")
        .sort(["classSourcedId", "primary", "userSourcedId"], descending=[False, True, False])
        .unique("classSourcedId", keep="first")
        .select("classSourcedId", pl.col("dcid").alias("teacher"))
    )
    pupils = (
        enr.filter(pl.col("role") == "student")
        .group_by("classSourcedId")
        .agg(pl.col("userSourcedId"), pl.col("dcid"))
    )
    joined = (
        classes.rename({"sourcedId": "classSourcedId"})
        .join(leads, on="classSourcedId", how="inner")
        .join(pupils, on="classSourcedId", how="left")
        .filter(pl.col("section").str.contains(r"^\d+$") & pl.col("teacher").str.contains(r"^\d+$"))
    )
    out: dict[str, Section] = {}
    for row in joined.iter_rows(named=True):
        ids, dcids = row["userSourcedId"] or [], row["dcid"] or []
        students = {u: int(d) for u, d in zip(ids, dcids, strict=True) if str(d).isdigit()}
        out[row["classSourcedId"]] = Section(int(row["section"]), int(row["teacher"]), students)
    return out


def assignment(item: Stored, section: Section, category: int | None) -> dict[str, Any]:
    """The PowerTeacher Pro assignment of a line item."""
    body = item.body
    points = body.get("resultValueMax")
    total = float(points) if isinstance(points, int | float) and points > 0 else 100.0
    text = str(body.get("description") or "")
    return {
        "sectionsdcid": section.dcid,
        "name": str(body["title"])[:60],
        "description": (text + " " if text else "") + marker(item.sourced_id),
        "duedate": str(body["dueDate"])[:10],
        "scoretype": "POINTS",
        "scoreentrypoints": total,
        "totalpointvalue": total,
        "weight": 1,
        "iscountedinfinalgrade": True,
        "_assignmentcategoryassociations": (
            [{"teachercategoryid": category, "isprimary": True}] if category is not None else []
        ),
    }


def score(result: Stored, assignment_id: int, student_dcid: int) -> dict[str, Any]:
    """The PowerTeacher Pro score of a result."""
    body = result.body
    kind = "REAL_SCORE"
    if body.get("scoreStatus") == "exempt":
        kind = "EXEMPT"
    elif body.get("missing") == "true" or body.get("scoreStatus") == "not submitted":
        kind = "MISSING"
    elif body.get("incomplete") == "true":
        kind = "INCOMPLETE"
    elif body.get("late") == "true":
        kind = "LATE"
    value = body.get("score")
    entered = "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
    if value is None and body.get("textScore") is not None:
        entered = str(body["textScore"])
    return {
        "studentsdcid": student_dcid,
        "actualscoreentered": entered,
        "actualscorekind": kind,
        "_assignmentsection": {"assignmentsectionid": assignment_id},
    }


def seen_value(sis_score: Mapping[str, Any]) -> str:
    """What a SIS score says, as compared between write-backs (value and kind)."""
    return f"{sis_score.get('actualscoreentered', '')}|{sis_score.get('actualscorekind', '')}"


@dataclass
class Plan:
    """What one write-back will do."""

    create: list[tuple[Stored, Section, dict[str, Any]]] = field(default_factory=list)
    update: list[tuple[Stored, Section, int, dict[str, Any]]] = field(default_factory=list)
    delete: list[tuple[Stored, Section | None, int]] = field(default_factory=list)
    scores: list[tuple[Stored, Section, dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[tuple[Stored, str]] = field(default_factory=list)


def plan_line_items(
    items: Sequence[Stored],
    sections: Mapping[str, Section],
    links: Mapping[tuple[str, str], Link],
    categories: Mapping[int, Mapping[str, int]],
    category_titles: Mapping[str, str],
) -> Plan:
    """Creates, updates and deletes of assignments (``categories``: teacher → name → id)."""
    plan = Plan()
    for item in items:
        link = links.get(("lineItems", item.sourced_id))
        section = sections.get(str(item.body.get("class")))
        if item.status != "active":
            if link is not None:
                plan.delete.append((item, section, int(link.sis_id)))
            continue
        if section is None:
            plan.skipped.append((item, "its class has no section with a lead teacher in the SIS"))
            continue
        title = category_titles.get(str(item.body.get("category")), "")
        mine = categories.get(section.teacher, {})
        category = mine.get(title.casefold()) or next(iter(mine.values()), None)
        payload = assignment(item, section, category)
        if link is None:
            plan.create.append((item, section, payload))
        elif link.written != digest(payload):
            plan.update.append((item, section, int(link.sis_id), payload))
        else:
            plan.unchanged += 1
    return plan
