"""Small builders of canonical tables and configurations for the pipeline tests."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from rostersync.config import DistrictConfig, load_config
from rostersync.model import ENTITIES, Roster, conform

BASE_SOURCE: dict[str, Any] = {
    "name": "sis",
    "app": "powerschool",
    "delivery": {
        "url": "http://127.0.0.1:8765",
        "client_id": "demo",
        "client_secret": "env:PS_CLIENT_SECRET",
    },
}


def table(entity: str, rows: list[dict[str, Any]], source: str = "sis") -> pl.DataFrame:
    """A canonical table from partial rows: common fields get defaults."""
    full = []
    for row in rows:
        r = {"status": "active", "source": source, "sourceId": row["sourcedId"], **row}
        if "metadata" in r and isinstance(r["metadata"], dict):
            r["metadata"] = json.dumps(r["metadata"], sort_keys=True)
        full.append(r)
    if not full:
        return ENTITIES[entity].empty()
    schema = {k: v for k, v in ENTITIES[entity].schema.items() if any(k in r for r in full)}
    frame = pl.DataFrame(full, schema=schema, strict=False)
    return conform(entity, frame)


def user(sid: str, role: str, given: str | None, family: str | None, **kw: Any) -> dict[str, Any]:
    return {
        "sourcedId": sid,
        "role": role,
        "givenName": given,
        "familyName": family,
        "enabledUser": True,
        "username": kw.pop("username", sid),
        **kw,
    }


def roster(**tables: list[dict[str, Any]]) -> Roster:
    """A roster from rows per entity (absent entities empty)."""
    source = str(tables.pop("source", "sis"))  # type: ignore[arg-type]
    return {name: table(name, tables.get(name, []), source) for name in ENTITIES}


def demo_district() -> Roster:
    """A small district with something for every stage to do."""
    return roster(
        orgs=[
            {"sourcedId": "d1", "name": "Springfield", "type": "district"},
            {
                "sourcedId": "s1",
                "name": "North High",
                "type": "school",
                "identifier": "100",
                "parentSourcedId": "d1",
            },
            {
                "sourcedId": "s2",
                "name": "South High",
                "type": "school",
                "identifier": "200",
                "parentSourcedId": "d1",
            },
        ],
        academicSessions=[
            {
                "sourcedId": "y25",
                "title": "2024-2025",
                "type": "schoolYear",
                "startDate": date(2024, 8, 1),
                "endDate": date(2025, 6, 30),
                "schoolYear": "2025",
            },
            {
                "sourcedId": "y26",
                "title": "2025-2026",
                "type": "schoolYear",
                "startDate": date(2025, 8, 1),
                "endDate": date(2026, 6, 30),
                "schoolYear": "2026",
            },
            {
                "sourcedId": "t26",
                "title": "S1",
                "type": "term",
                "parentSourcedId": "y26",
                "startDate": date(2025, 8, 1),
                "endDate": date(2025, 12, 20),
                "schoolYear": "2026",
            },
            {
                "sourcedId": "t25",
                "title": "S1",
                "type": "term",
                "parentSourcedId": "y25",
                "startDate": date(2024, 8, 1),
                "endDate": date(2024, 12, 20),
                "schoolYear": "2025",
            },
        ],
        courses=[
            {
                "sourcedId": "c1",
                "title": "Algebra",
                "orgSourcedId": "s1",
                "schoolYearSourcedId": "y26",
                "grades": ["09"],
            },
            {
                "sourcedId": "c2",
                "title": "Biology",
                "orgSourcedId": "s2",
                "schoolYearSourcedId": "y26",
                "grades": ["10"],
            },
            {
                "sourcedId": "c3",
                "title": "Old Chem",
                "orgSourcedId": "s1",
                "schoolYearSourcedId": "y25",
                "grades": ["11"],
            },
        ],
        classes=[
            {
                "sourcedId": "k1",
                "title": "Algebra 1",
                "courseSourcedId": "c1",
                "classType": "scheduled",
                "schoolSourcedId": "s1",
                "termSourcedIds": ["t26"],
                "grades": ["09"],
            },
            {
                "sourcedId": "k2",
                "title": "Biology 1",
                "courseSourcedId": "c2",
                "classType": "scheduled",
                "schoolSourcedId": "s2",
                "termSourcedIds": ["t26"],
                "grades": ["10"],
            },
            {
                "sourcedId": "k3",
                "title": "Chem (old)",
                "courseSourcedId": "c3",
                "classType": "scheduled",
                "schoolSourcedId": "s1",
                "termSourcedIds": ["t25"],
                "grades": ["11"],
            },
        ],
        users=[
            user(
                "u1",
                "student",
                "Élodie",
                "Durand",
                email="elodie@x.org",
                grades=["09"],
                orgSourcedIds=["s1"],
                agentSourcedIds=["p1"],
                metadata={
                    "U_DEF_EXT_STUDENTS.school_email": "ELODIE.D@X.ORG",
                    "enroll_status": "A",
                },
            ),
            user(
                "u2",
                "student",
                "elodie ",
                "DURAND",
                email="Elodie@X.org",
                grades=["09"],
                orgSourcedIds=["s1"],
                birthDate=date(2010, 3, 1),
                metadata={"enroll_status": "A"},
            ),
            user(
                "u3",
                "student",
                "Bo",
                "Chen",
                email=None,
                grades=["10"],
                orgSourcedIds=["s2"],
                metadata={"enroll_status": "A"},
            ),
            user(
                "u4",
                "student",
                "Test",
                "Student",
                email="t@x.org",
                grades=["10"],
                orgSourcedIds=["s2"],
                metadata={"enroll_status": "A"},
            ),
            user(
                "u5",
                "student",
                "Pre",
                "Reg",
                email="p@x.org",
                grades=["09"],
                orgSourcedIds=["s1"],
                metadata={"enroll_status": "P"},
            ),
            user(
                "u6",
                "student",
                "Kid",
                "Garten",
                email="k@x.org",
                grades=["KG"],
                orgSourcedIds=["s1"],
                metadata={"enroll_status": "A"},
            ),
            user("t1", "teacher", "Ada", "Lovelace", email="ada@x.org", orgSourcedIds=["s1"]),
            user("t2", "teacher", "Idle", "Teacher", email="idle@x.org", orgSourcedIds=["s1"]),
            user("t3", "teacher", "Co", "Teacher", email="co@x.org", orgSourcedIds=["s2"]),
            user(
                "p1",
                "guardian",
                None,
                None,
                agentSourcedIds=["u1"],
                metadata={"legacyContactName": "Durand Jr, Marc Antoine"},
            ),
            user("p2", "guardian", None, None, metadata={"legacyContactName": "Cher"}),
            user("p3", "parent", "Lone", "Parent", email="lone@x.org"),
        ],
        enrollments=[
            {
                "sourcedId": "e1",
                "classSourcedId": "k1",
                "schoolSourcedId": "s1",
                "userSourcedId": "u1",
                "role": "student",
            },
            {
                "sourcedId": "e2",
                "classSourcedId": "k1",
                "schoolSourcedId": "s1",
                "userSourcedId": "u2",
                "role": "student",
            },
            {
                "sourcedId": "e3",
                "classSourcedId": "k2",
                "schoolSourcedId": "s2",
                "userSourcedId": "u3",
                "role": "student",
            },
            {
                "sourcedId": "e4",
                "classSourcedId": "k1",
                "schoolSourcedId": "s1",
                "userSourcedId": "t1",
                "role": "teacher",
                "primary": True,
            },
            {
                "sourcedId": "e5",
                "classSourcedId": "k2",
                "schoolSourcedId": "s2",
                "userSourcedId": "t3",
                "role": "teacher",
                "primary": False,
            },
            {
                "sourcedId": "e6",
                "classSourcedId": "k2",
                "schoolSourcedId": "s2",
                "userSourcedId": "u4",
                "role": "student",
            },
            {
                "sourcedId": "e7",
                "classSourcedId": "k3",
                "schoolSourcedId": "s1",
                "userSourcedId": "u6",
                "role": "student",
            },
        ],
        demographics=[
            {"sourcedId": "u1", "sex": "female"},
            {"sourcedId": "u3", "sex": "male", "birthDate": date(2009, 5, 5)},
        ],
        userContacts=[
            {"sourcedId": "l1", "studentSourcedId": "u1", "contactSourcedId": "p1"},
            {"sourcedId": "l2", "studentSourcedId": "u2", "contactSourcedId": "p1"},
            {"sourcedId": "l3", "studentSourcedId": "u4", "contactSourcedId": "p2"},
        ],
    )


def write_config(tmp: Path, sources: list[dict[str, Any]] | None = None, **top: Any) -> Path:
    """A config file with ``sources`` (each merged over a minimal source) and top-level keys."""
    srcs = [{**BASE_SOURCE, **s} for s in (sources or [{}])]
    data = {"district": "Springfield", "sources": srcs, **top}
    path = tmp / "district.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def load(tmp: Path, sources: list[dict[str, Any]] | None = None, **top: Any) -> DistrictConfig:
    # `ldap` stands for a second source app whose connector is not installed here
    return load_config(write_config(tmp, sources, **top), apps=("powerschool", "ldap"))


def ids(frame: pl.DataFrame) -> set[str]:
    return set(frame["sourcedId"].to_list())
