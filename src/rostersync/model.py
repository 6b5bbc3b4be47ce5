"""Canonical model: the roster in OneRoster 1.2 vocabulary, one declared Polars schema per entity.

Every table flowing from connectors through the pipeline to the store and the OneRoster outputs
has exactly the columns declared here. Each field is declared once (name, type, whether it is
required, help text); the Polars schema and the store's SQL tables are derived from it.

Every record carries the common fields: ``sourcedId`` (the SIS ID with the source's prefix),
``status``, ``dateLastModified``, ``source`` (which activated source app it came from),
``sourceId`` (the raw SIS ID) and ``metadata`` (custom attributes, a JSON object as text so it
hashes, diffs and stores the same everywhere).

The admin thinks in seven entity types (student, contact, teacher, course, class, calendar,
admin); :data:`ENTITY_TYPES` is the one table that maps them onto the canonical entities.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

DATE = pl.Date()
TIMESTAMP = pl.Datetime("us", "UTC")
TEXT = pl.Utf8()
BOOL = pl.Boolean()
TEXT_LIST = pl.List(pl.Utf8())


@dataclass(frozen=True)
class Field:
    """One attribute of a canonical entity."""

    name: str
    dtype: pl.DataType
    required: bool = False
    help: str = ""


@dataclass(frozen=True)
class Entity:
    """A canonical table: its name (the OneRoster collection name) and its fields."""

    name: str
    fields: tuple[Field, ...]
    help: str = ""

    @property
    def schema(self) -> pl.Schema:
        """The Polars schema every table of this entity has."""
        return pl.Schema({f.name: f.dtype for f in self.fields})

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def content_names(self) -> tuple[str, ...]:
        """The fields that make up a record's content: every field but ``dateLastModified``,
        which the store stamps when the content changes (so it must not count as a change)."""
        return tuple(f.name for f in self.fields if f.name != "dateLastModified")

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def empty(self) -> pl.DataFrame:
        """An empty table of this entity."""
        return pl.DataFrame(schema=self.schema)


COMMON: Final = (
    Field("sourcedId", TEXT, True, "Stable ID of the record: the SIS ID with the source prefix."),
    Field("status", TEXT, True, "active or tobedeleted."),
    Field("dateLastModified", TIMESTAMP, False, "When the record last changed (UTC)."),
    Field("source", TEXT, True, "Name of the activated source app the record came from."),
    Field("sourceId", TEXT, True, "The record's raw ID in the source (e.g. PowerSchool DCID)."),
    Field("metadata", TEXT, False, "Custom attributes as a JSON object (sorted keys)."),
)


def _entity(name: str, help: str, *fields: Field) -> Entity:
    return Entity(name, COMMON + fields, help)


ORGS = _entity(
    "orgs",
    "The district and its schools.",
    Field("name", TEXT, True, "Org name."),
    Field("type", TEXT, True, "district, school, department, local, state or national."),
    Field("identifier", TEXT, False, "Human identifier, e.g. the school number."),
    Field("parentSourcedId", TEXT, False, "The parent org (a school's district)."),
)

ACADEMIC_SESSIONS = _entity(
    "academicSessions",
    "The calendar: school years, semesters, terms and grading periods.",
    Field("title", TEXT, True, "Session title, e.g. 2025-2026 or Semester 1."),
    Field("type", TEXT, True, "schoolYear, semester, term or gradingPeriod."),
    Field("startDate", DATE, True, "First day."),
    Field("endDate", DATE, True, "Last day."),
    Field("parentSourcedId", TEXT, False, "The enclosing session (a semester's school year)."),
    Field("schoolYear", TEXT, True, "YYYY: the calendar year in which the school year ends."),
    Field("orgSourcedId", TEXT, False, "The school whose calendar this is."),
)

COURSES = _entity(
    "courses",
    "Courses offered by a school.",
    Field("title", TEXT, True, "Course name."),
    Field("schoolYearSourcedId", TEXT, False, "School year of the course."),
    Field("courseCode", TEXT, False, "Course number in the SIS."),
    Field("grades", TEXT_LIST, False, "Grade levels (CEDS codes)."),
    Field("orgSourcedId", TEXT, True, "The school that offers the course."),
    Field("subjects", TEXT_LIST, False, "Subject names."),
    Field("subjectCodes", TEXT_LIST, False, "SCED subject codes."),
)

CLASSES = _entity(
    "classes",
    "Classes (PowerSchool sections): a course taught in a term at a school.",
    Field("title", TEXT, True, "Class title."),
    Field("grades", TEXT_LIST, False, "Grade levels."),
    Field("courseSourcedId", TEXT, True, "The course."),
    Field("classCode", TEXT, False, "Section number."),
    Field("classType", TEXT, True, "scheduled or homeroom."),
    Field("location", TEXT, False, "Room."),
    Field("schoolSourcedId", TEXT, True, "The school."),
    Field("termSourcedIds", TEXT_LIST, True, "The terms the class runs in."),
    Field("subjects", TEXT_LIST, False, "Subject names."),
    Field("subjectCodes", TEXT_LIST, False, "SCED subject codes."),
    Field("periods", TEXT_LIST, False, "Periods (e.g. from the expression 1(A-F))."),
)

USERS = _entity(
    "users",
    "People: students, teachers, contacts (guardians, parents, relatives), administrators, aides.",
    Field("enabledUser", BOOL, True, "Whether the account may sign in."),
    Field("username", TEXT, True, "Login name."),
    Field("userIds", TEXT_LIST, False, "Other identifiers as type:value."),
    Field("givenName", TEXT, True, "First name."),
    Field("familyName", TEXT, True, "Last name."),
    Field("middleName", TEXT, False, "Middle name(s)."),
    Field("preferredFirstName", TEXT, False, "Preferred first name."),
    Field("preferredLastName", TEXT, False, "Preferred last name."),
    Field(
        "role",
        TEXT,
        True,
        "Primary role: student, teacher, aide, administrator, guardian, parent, relative.",
    ),
    Field("orgSourcedIds", TEXT_LIST, False, "The orgs (schools) the user belongs to."),
    Field("primaryOrgSourcedId", TEXT, False, "The user's main org."),
    Field("identifier", TEXT, False, "Human identifier, e.g. the student number."),
    Field("email", TEXT, False, "Email address."),
    Field("sms", TEXT, False, "Mobile number for text messages."),
    Field("phone", TEXT, False, "Phone number."),
    Field("agentSourcedIds", TEXT_LIST, False, "Related users: a student's contacts and back."),
    Field("grades", TEXT_LIST, False, "A student's grade level (CEDS code)."),
    Field("birthDate", DATE, False, "Birth date (also in demographics)."),
)

ENROLLMENTS = _entity(
    "enrollments",
    "Who is in which class: students, and teachers with their roles (lead, co-teacher).",
    Field("classSourcedId", TEXT, True, "The class."),
    Field("schoolSourcedId", TEXT, True, "The class's school."),
    Field("userSourcedId", TEXT, True, "The student or teacher."),
    Field("role", TEXT, True, "student, teacher, administrator or proctor."),
    Field("primary", BOOL, False, "For teachers: true for the lead teacher."),
    Field("teacherRole", TEXT, False, "The SIS section role, e.g. Lead Teacher, Co-Teacher."),
    Field("beginDate", DATE, False, "First day in the class."),
    Field("endDate", DATE, False, "Last day in the class."),
)

DEMOGRAPHICS = _entity(
    "demographics",
    "Demographic data of users; sourcedId equals the user's sourcedId.",
    Field("birthDate", DATE, False, "Birth date."),
    Field("sex", TEXT, False, "male, female, unspecified or other."),
    Field("americanIndianOrAlaskaNative", BOOL, False, ""),
    Field("asian", BOOL, False, ""),
    Field("blackOrAfricanAmerican", BOOL, False, ""),
    Field("nativeHawaiianOrOtherPacificIslander", BOOL, False, ""),
    Field("white", BOOL, False, ""),
    Field("demographicRaceTwoOrMoreRaces", BOOL, False, ""),
    Field("hispanicOrLatinoEthnicity", BOOL, False, ""),
    Field("countryOfBirthCode", TEXT, False, ""),
    Field("stateOfBirthAbbreviation", TEXT, False, ""),
    Field("cityOfBirth", TEXT, False, ""),
    Field("publicSchoolResidenceStatus", TEXT, False, ""),
)

USER_CONTACTS = _entity(
    "userContacts",
    "Links between a student and a contact, with the relationship and its flags.",
    Field("studentSourcedId", TEXT, True, "The student."),
    Field("contactSourcedId", TEXT, True, "The contact (guardian, parent, relative…)."),
    Field("relationshipType", TEXT, False, "e.g. Mother, Father, Guardian, Grandparent."),
    Field("custodial", BOOL, False, "Has custody."),
    Field("emergency", BOOL, False, "Emergency contact."),
    Field("livesWith", BOOL, False, "The student lives with this contact."),
    Field("receivesMail", BOOL, False, "Receives school mail."),
    Field("priority", TEXT, False, "Contact order as given by the SIS."),
)

ENTITIES: Final[dict[str, Entity]] = {
    e.name: e
    for e in (
        ORGS,
        ACADEMIC_SESSIONS,
        COURSES,
        CLASSES,
        USERS,
        ENROLLMENTS,
        DEMOGRAPHICS,
        USER_CONTACTS,
    )
}

STUDENT_ROLES: Final = ("student",)
TEACHER_ROLES: Final = ("teacher", "aide")
CONTACT_ROLES: Final = ("guardian", "parent", "relative")
ADMIN_ROLES: Final = ("administrator",)

#: The ``metadata`` key under which a connector puts a student's SIS enrollment status (``A``
#: active, ``P`` pre-registered…); the filter templates ``active_students_only`` and
#: ``exclude_pre_registered`` read it.
ENROLL_STATUS_KEY: Final = "enroll_status"


@dataclass(frozen=True)
class EntityType:
    """One of the seven entity types of the admin's world, as a slice of a canonical table."""

    name: str
    entity: str
    roles: tuple[str, ...] | None = None  # for users: which roles belong to this type

    def mask(self) -> pl.Expr:
        """A Polars expression selecting this type's rows of its canonical table."""
        if self.roles is None:
            return pl.lit(True)
        return pl.col("role").is_in(list(self.roles))


#: The admin's seven entity types → canonical entities. The one place this mapping lives.
ENTITY_TYPES: Final[dict[str, EntityType]] = {
    t.name: t
    for t in (
        EntityType("student", "users", STUDENT_ROLES),
        EntityType("contact", "users", CONTACT_ROLES),
        EntityType("teacher", "users", TEACHER_ROLES),
        EntityType("admin", "users", ADMIN_ROLES),
        EntityType("course", "courses"),
        EntityType("class", "classes"),
        EntityType("calendar", "academicSessions"),
    )
}


def conform(entity: str | Entity, table: pl.DataFrame) -> pl.DataFrame:
    """Cast and order ``table`` to the entity's schema, adding missing optional columns as nulls.

    Raises ``KeyError`` naming columns the schema does not know, so a connector bug shows up at
    the boundary instead of deep in the pipeline.
    """
    ent = ENTITIES[entity] if isinstance(entity, str) else entity
    unknown = [c for c in table.columns if c not in ent.schema]
    if unknown:
        raise KeyError(f"{ent.name}: unknown columns {unknown}")
    exprs = [
        (
            pl.col(f.name).cast(f.dtype)
            if f.name in table.columns
            else pl.lit(None, dtype=f.dtype).alias(f.name)
        )
        for f in ent.fields
    ]
    return table.select(exprs)


def metadata_json(values: Mapping[str, Any]) -> str:
    """Canonical text of a metadata map: sorted keys, no spaces, so equal maps hash equal."""
    return json.dumps(dict(values), sort_keys=True, separators=(",", ":"), default=str)


def empty_roster() -> dict[str, pl.DataFrame]:
    """A roster with every canonical table present and empty."""
    return {name: ent.empty() for name, ent in ENTITIES.items()}


Roster = dict[str, pl.DataFrame]
