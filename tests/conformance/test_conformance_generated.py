"""Hypothesis-generated rosters, as messy as a SIS gives them, come out of the pipeline valid.

Each generated roster (IDs with spaces, ``~``, ``:`` or accents; names missing, single words or
legacy strings; usernames and emails missing; classes of odd case; sessions of every type,
grading periods under terms) goes through :func:`run_pipeline` with a default configuration,
then through the CSV exporter (1.1 and 1.2, bulk and delta) and the REST serializers (1.1 and
1.2). Every output must pass the strict validator and models. ``dateLastModified`` is given a
fixed time, since stamping it is the store's work at publish.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import polars as pl
from conformance_csv import summarize, validate_package
from conformance_data import district_config
from conformance_models import ENTITY_MODELS, envelope_errors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rostersync.config import validate_config
from rostersync.export.oneroster.catalog import RESOURCES
from rostersync.export.oneroster.csv_export import write_package
from rostersync.export.oneroster.serialize import Serializer
from rostersync.model import ENTITIES, Roster, conform
from rostersync.pipeline import run_pipeline

STAMP = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
CONFIG = validate_config(district_config("http://127.0.0.1:9"), "generated")

raw_ids = st.text(alphabet=st.sampled_from("abcXYZ019-_.@/ ~:é#"), min_size=1, max_size=12).filter(
    lambda s: s.strip() == s and s != ""
)
words = st.text(alphabet=st.sampled_from("abcdefghij"), min_size=1, max_size=8)
maybe_name = st.one_of(st.none(), st.just(""), words)


def _table(entity: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    if not rows:
        return ENTITIES[entity].empty()
    full = [{"status": "active", "source": "sis", "sourceId": r["sourcedId"], **r} for r in rows]
    schema = {k: v for k, v in ENTITIES[entity].schema.items() if any(k in r for r in full)}
    return conform(entity, pl.DataFrame(full, schema=schema, strict=False))


@st.composite
def rosters(draw: st.DrawFn) -> Roster:
    ids = draw(st.lists(raw_ids, min_size=12, max_size=30, unique=True))
    it = iter(ids)
    district, school = next(it), next(it)
    year, term, period, semester = next(it), next(it), next(it), next(it)
    course, klass = next(it), next(it)
    people = list(it)
    orgs = [
        {
            "sourcedId": district,
            "name": "District",
            "type": draw(st.sampled_from(["district", "District"])),
        },
        {
            "sourcedId": school,
            "name": "North",
            "type": "school",
            "parentSourcedId": district,
            "identifier": draw(st.one_of(st.none(), st.just("100"))),
        },
    ]
    span = {"startDate": dt.date(2025, 8, 1), "endDate": dt.date(2026, 6, 30), "schoolYear": "2026"}
    sessions = [
        {
            "sourcedId": year,
            "title": "2025-2026",
            "type": "schoolYear",
            "orgSourcedId": school,
            **span,
        },
        {
            "sourcedId": semester,
            "title": "S1",
            "type": "semester",
            "parentSourcedId": year,
            "orgSourcedId": school,
            **span,
        },
        {
            "sourcedId": term,
            "title": "T1",
            "type": "term",
            "parentSourcedId": year,
            "orgSourcedId": school,
            **span,
        },
        {
            "sourcedId": period,
            "title": "Q1",
            "type": "gradingPeriod",
            "parentSourcedId": term,
            "orgSourcedId": school,
            **span,
        },
    ]
    courses = [
        {
            "sourcedId": course,
            "title": "Algebra",
            "courseCode": draw(st.sampled_from(["ALG", None, ""])),
            "orgSourcedId": school,
            "schoolYearSourcedId": year,
            "grades": ["09"],
        }
    ]
    classes = [
        {
            "sourcedId": klass,
            "title": draw(st.sampled_from(["Algebra 1", None])),
            "courseSourcedId": course,
            "classType": draw(st.sampled_from(["scheduled", "Scheduled", "homeroom"])),
            "schoolSourcedId": school,
            "termSourcedIds": draw(st.sampled_from([[term], [], None])),
        }
    ]
    users: list[dict[str, Any]] = []
    enrollments: list[dict[str, Any]] = []
    demographics: list[dict[str, Any]] = []
    students = [p for i, p in enumerate(people) if i % 3 == 0]
    for i, person in enumerate(people):
        role = ["student", "teacher", "guardian"][i % 3]
        row: dict[str, Any] = {
            "sourcedId": person,
            "role": role,
            "enabledUser": True,
            "givenName": draw(maybe_name),
            "familyName": draw(maybe_name),
            "username": draw(st.one_of(st.none(), st.just(""), words)),
            "email": draw(st.one_of(st.none(), words.map(lambda w: f"{w}@example.org"))),
            "orgSourcedIds": draw(st.sampled_from([[school], [], None])),
            "primaryOrgSourcedId": draw(st.sampled_from([school, None])),
        }
        if role == "guardian":
            legacy = draw(st.one_of(st.none(), st.lists(words, min_size=1, max_size=3)))
            if legacy is not None:
                row["givenName"] = row["familyName"] = None
                row["metadata"] = json.dumps({"legacyContactName": " ".join(legacy)})
            if students:
                row["agentSourcedIds"] = [students[0]]
        if role == "student":
            demographics.append(
                {
                    "sourcedId": person,
                    "sex": draw(
                        st.sampled_from([None, "male", "female", "other", "unspecified", "F"])
                    ),
                    "white": draw(st.sampled_from([None, True, False])),
                    "birthDate": dt.date(2010, 1, 2),
                }
            )
            row["grades"] = ["09"]
            row["identifier"] = f"S{i}"
        users.append(row)
        if role in ("student", "teacher"):
            enrollments.append(
                {
                    "sourcedId": f"{person}-{klass}",
                    "classSourcedId": klass,
                    "schoolSourcedId": school,
                    "userSourcedId": person,
                    "role": role,
                    "primary": True if role == "teacher" and draw(st.booleans()) else None,
                }
            )
    return {
        "orgs": _table("orgs", orgs),
        "academicSessions": _table("academicSessions", sessions),
        "courses": _table("courses", courses),
        "classes": _table("classes", classes),
        "users": _table("users", users),
        "enrollments": _table("enrollments", enrollments),
        "demographics": _table("demographics", demographics),
    }


def _stamped(roster: Roster) -> Roster:
    return {
        name: t.with_columns(
            pl.lit(STAMP).cast(ENTITIES[name].schema["dateLastModified"]).alias("dateLastModified")
        )
        for name, t in roster.items()
    }


def _zip_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rosters(), rosters())
def test_generated_rosters_come_out_valid(first_raw: Roster, second_raw: Roster) -> None:
    import tempfile

    first, _ = run_pipeline({"sis": first_raw}, CONFIG)
    second, _ = run_pipeline({"sis": second_raw}, CONFIG)
    first, second = _stamped(first), _stamped(second)
    errors: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for version in ("1.1", "1.2"):
            for mode, roster, previous in (
                ("bulk", first, None),
                ("bulk", second, None),
                ("delta", second, first),
            ):
                out = Path(tmp) / f"{version}-{mode}-{id(roster)}.zip"
                write_package(out, roster, version, previous=previous, now=STAMP)
                report = validate_package(version, _zip_members(out))
                errors += [f"CSV {version} {mode}: {e}" for e in report.errors]
    for version, roster in (("1.1", first), ("1.1", second), ("1.2", first), ("1.2", second)):
        for entity, (_single, _model) in ENTITY_MODELS[version].items():
            resource = RESOURCES[version][entity]  # type: ignore[index]
            serializer = Serializer(resource, "http://localhost/base", version)
            rows = roster[entity].to_dicts()
            body = {entity: serializer.many(rows, resource.fields)}
            errors += [
                f"REST {version}: {e}" for e in envelope_errors(version, entity, body, single=False)
            ]
    assert not errors, summarize(errors)
