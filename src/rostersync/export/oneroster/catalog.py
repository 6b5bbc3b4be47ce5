"""The OneRoster REST field catalogue: each JSON field of each entity, per version (1.1 / 1.2).

One table says, for every JSON field a consumer can see, select, filter or sort on: which
canonical column(s) feed it and how the value is written. The serializers, the ``fields``
projection, the filter resolver and the sort resolver all read this one table, so a field
cannot be served under one name and filtered under another.

Naming traps encoded here: 1.2 JSON ``preferredFirstName``/``preferredLastName`` (the CSV says
``preferredGivenName``/``preferredFamilyName``); 1.1 users carry ``role`` + ``orgs`` while 1.2
users carry ``roles`` (derived from the canonical role, orgs and primary org) and ``primaryOrg``.
Canonical fields that OneRoster has no field for (``source``, ``sourceId``, ``teacherRole``…)
are not served; vendor data only ever appears inside ``metadata``.

The 1.2 OpenAPI file is not available offline; required fields and envelopes follow the
project's reference (``shared/reference/oneroster.md`` §3.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Version = Literal["1.1", "1.2"]
Kind = Literal[
    "text",  # a string column
    "date",  # Date column → YYYY-MM-DD
    "datetime",  # DateTime column → ISO 8601 UTC with milliseconds and Z
    "boolstr",  # Boolean column → "true" / "false" (OneRoster's string booleans)
    "list",  # JSON array column → list of strings
    "ref",  # a sourcedId column → GUIDRef {href, sourcedId, type}
    "refs",  # a JSON array of sourcedIds → list of GUIDRefs
    "userIds",  # JSON array of "type:identifier" → [{type, identifier}]
    "roles",  # 1.2 user roles derived from role, orgSourcedIds, primaryOrgSourcedId
    "metadata",  # JSON object text → object
]


@dataclass(frozen=True)
class JsonField:
    """One field of a OneRoster JSON object."""

    name: str
    column: str
    kind: Kind
    ref_type: str | None = None
    required: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        """Every canonical column this field reads."""
        if self.kind == "roles":
            return ("role", "orgSourcedIds", "primaryOrgSourcedId")
        return (self.column,)


@dataclass(frozen=True)
class Resource:
    """A OneRoster object type as served: its canonical table, envelope keys and fields."""

    name: str  # object type used in GUIDRefs: org, academicSession, course…
    entity: str  # canonical table
    collection_key: str
    single_key: str
    fields: tuple[JsonField, ...]

    def field(self, name: str) -> JsonField | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


#: Which collection a GUIDRef's href points into, by ref type.
REF_COLLECTIONS: Final[dict[str, str]] = {
    "org": "orgs",
    "academicSession": "academicSessions",
    "course": "courses",
    "class": "classes",
    "user": "users",
    "enrollment": "enrollments",
    "demographics": "demographics",
}

_BASE: Final = (
    JsonField("sourcedId", "sourcedId", "text", required=True),
    JsonField("status", "status", "text", required=True),
    JsonField("dateLastModified", "dateLastModified", "datetime", required=True),
    JsonField("metadata", "metadata", "metadata"),
)


def _f(
    name: str, kind: Kind, column: str | None = None, ref: str | None = None, req: bool = False
) -> JsonField:
    return JsonField(name, column or name, kind, ref, req)


def _org(version: Version) -> Resource:
    return Resource(
        "org",
        "orgs",
        "orgs",
        "org",
        (
            *_BASE,
            _f("name", "text", req=True),
            _f("type", "text", req=True),
            _f("identifier", "text"),
            _f("parent", "ref", "parentSourcedId", "org"),
        ),
    )


def _academic_session(version: Version) -> Resource:
    return Resource(
        "academicSession",
        "academicSessions",
        "academicSessions",
        "academicSession",
        (
            *_BASE,
            _f("title", "text", req=True),
            _f("startDate", "date", req=True),
            _f("endDate", "date", req=True),
            _f("type", "text", req=True),
            _f("parent", "ref", "parentSourcedId", "academicSession"),
            _f("schoolYear", "text", req=True),
        ),
    )


def _course(version: Version) -> Resource:
    return Resource(
        "course",
        "courses",
        "courses",
        "course",
        (
            *_BASE,
            _f("title", "text", req=True),
            _f("schoolYear", "ref", "schoolYearSourcedId", "academicSession"),
            _f("courseCode", "text", req=version == "1.2"),
            _f("grades", "list"),
            _f("subjects", "list"),
            _f("org", "ref", "orgSourcedId", "org", req=version == "1.1"),
            _f("subjectCodes", "list"),
        ),
    )


def _class(version: Version) -> Resource:
    return Resource(
        "class",
        "classes",
        "classes",
        "class",
        (
            *_BASE,
            _f("title", "text", req=True),
            _f("classCode", "text"),
            _f("classType", "text"),
            _f("location", "text"),
            _f("grades", "list"),
            _f("subjects", "list"),
            _f("course", "ref", "courseSourcedId", "course", req=True),
            _f("school", "ref", "schoolSourcedId", "org", req=True),
            _f("terms", "refs", "termSourcedIds", "academicSession", req=True),
            _f("subjectCodes", "list"),
            _f("periods", "list"),
        ),
    )


def _user(version: Version) -> Resource:
    common_head = (
        *_BASE,
        _f("enabledUser", "boolstr", req=True),
        _f("username", "text", req=version == "1.1"),
        _f("userIds", "userIds"),
        _f("givenName", "text", req=True),
        _f("familyName", "text", req=True),
        _f("middleName", "text"),
    )
    contact = (
        _f("identifier", "text"),
        _f("email", "text"),
        _f("sms", "text"),
        _f("phone", "text"),
        _f("agents", "refs", "agentSourcedIds", "user"),
        _f("grades", "list"),
    )
    fields: tuple[JsonField, ...]
    if version == "1.1":
        fields = (
            *common_head,
            _f("role", "text", req=True),
            _f("orgs", "refs", "orgSourcedIds", "org", req=True),
            *contact,
        )
    else:
        fields = (
            *common_head,
            _f("preferredFirstName", "text"),
            _f("preferredLastName", "text"),
            _f("roles", "roles", "role", req=True),
            _f("primaryOrg", "ref", "primaryOrgSourcedId", "org"),
            *contact,
        )
    return Resource("user", "users", "users", "user", fields)


def _enrollment(version: Version) -> Resource:
    return Resource(
        "enrollment",
        "enrollments",
        "enrollments",
        "enrollment",
        (
            *_BASE,
            _f("user", "ref", "userSourcedId", "user", req=True),
            _f("class", "ref", "classSourcedId", "class", req=True),
            _f("school", "ref", "schoolSourcedId", "org", req=True),
            _f("role", "text", req=True),
            _f("primary", "boolstr"),
            _f("beginDate", "date"),
            _f("endDate", "date"),
        ),
    )


_FLAGS: Final = (
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity",
)


def _demographics(version: Version) -> Resource:
    return Resource(
        "demographics",
        "demographics",
        "demographics",
        "demographics",
        (
            *_BASE,
            _f("birthDate", "date"),
            _f("sex", "text"),
            *(_f(flag, "boolstr") for flag in _FLAGS),
            _f("countryOfBirthCode", "text"),
            _f("stateOfBirthAbbreviation", "text"),
            _f("cityOfBirth", "text"),
            _f("publicSchoolResidenceStatus", "text"),
        ),
    )


def _build(version: Version) -> dict[str, Resource]:
    return {
        r.entity: r
        for r in (
            _org(version),
            _academic_session(version),
            _course(version),
            _class(version),
            _user(version),
            _enrollment(version),
            _demographics(version),
        )
    }


#: Resources by canonical entity name, per version.
RESOURCES: Final[dict[Version, dict[str, Resource]]] = {"1.1": _build("1.1"), "1.2": _build("1.2")}

#: Filter/sort names with a dot that reach inside a derived field, per resource entity.
DOTTED_ALIASES: Final[dict[str, dict[str, str]]] = {
    "users": {
        "roles.role": "role",
        "roles.org.sourcedId": "orgSourcedIds",
        "orgs.sourcedId": "orgSourcedIds",
    },
}
