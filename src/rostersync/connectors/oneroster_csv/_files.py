"""The OneRoster CSV binding as data: each rostering file's columns, in order, with their types.

Written from the 1.1 "CSV Tables" and the 1.2.1 CSV binding (see the project's OneRoster
reference). Only the rostering files feed the canonical model; the gradebook and resources files
are recognised, so a package carrying them is reported as such rather than misread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Kind = Literal["text", "date", "datetime", "bool", "list", "year", "enum", "userIds"]
#: ``delta``: blank in a bulk file, required in a delta file (status and dateLastModified).
Required = bool | Literal["delta"]

VERSIONS: Final = ("1.1", "1.2")


@dataclass(frozen=True)
class Column:
    """One column of a file: its header, what its cells hold, whether a row must fill it."""

    name: str
    kind: Kind = "text"
    required: Required = False
    values: tuple[str, ...] = ()


def _c(name: str, kind: Kind = "text", required: Required = False, *values: str) -> Column:
    return Column(name, kind, required, values)


STATUS: Final = ("active", "tobedeleted")
_HEAD: Final = (
    _c("sourcedId", "text", True),
    _c("status", "enum", "delta", *STATUS),
    _c("dateLastModified", "datetime", "delta"),
)
SESSION_TYPES: Final = ("gradingPeriod", "semester", "schoolYear", "term")
ORG_TYPES: Final = ("department", "school", "district", "local", "state", "national")
CLASS_TYPES: Final = ("homeroom", "scheduled")
ENROLLMENT_ROLES: Final = ("administrator", "proctor", "student", "teacher")
USER_ROLES_1P1: Final = (
    "administrator",
    "aide",
    "guardian",
    "parent",
    "proctor",
    "relative",
    "student",
    "teacher",
)
ROLES_1P2: Final = (
    "aide",
    "counselor",
    "districtAdministrator",
    "guardian",
    "parent",
    "principal",
    "proctor",
    "relative",
    "siteAdministrator",
    "student",
    "systemAdministrator",
    "teacher",
)
SEX_1P1: Final = ("male", "female")
SEX_1P2: Final = ("male", "female", "unspecified", "other")

_COMMON: Final[dict[str, tuple[Column, ...]]] = {
    "academicSessions": (
        *_HEAD,
        _c("title", "text", True),
        _c("type", "enum", True, *SESSION_TYPES),
        _c("startDate", "date", True),
        _c("endDate", "date", True),
        _c("parentSourcedId"),
        _c("schoolYear", "year", True),
    ),
    "orgs": (
        *_HEAD,
        _c("name", "text", True),
        _c("type", "enum", True, *ORG_TYPES),
        _c("identifier"),
        _c("parentSourcedId"),
    ),
    "courses": (
        *_HEAD,
        _c("schoolYearSourcedId"),
        _c("title", "text", True),
        _c("courseCode"),
        _c("grades", "list"),
        _c("orgSourcedId", "text", True),
        _c("subjects", "list"),
        _c("subjectCodes", "list"),
    ),
    "classes": (
        *_HEAD,
        _c("title", "text", True),
        _c("grades", "list"),
        _c("courseSourcedId", "text", True),
        _c("classCode"),
        _c("classType", "enum", True, *CLASS_TYPES),
        _c("location"),
        _c("schoolSourcedId", "text", True),
        _c("termSourcedIds", "list", True),
        _c("subjects", "list"),
        _c("subjectCodes", "list"),
        _c("periods", "list"),
    ),
    "enrollments": (
        *_HEAD,
        _c("classSourcedId", "text", True),
        _c("schoolSourcedId", "text", True),
        _c("userSourcedId", "text", True),
        _c("role", "enum", True, *ENROLLMENT_ROLES),
        _c("primary", "bool"),
        _c("beginDate", "date"),
        _c("endDate", "date"),
    ),
}


def _demographics(sexes: tuple[str, ...]) -> tuple[Column, ...]:
    flags = (
        "americanIndianOrAlaskaNative",
        "asian",
        "blackOrAfricanAmerican",
        "nativeHawaiianOrOtherPacificIslander",
        "white",
        "demographicRaceTwoOrMoreRaces",
        "hispanicOrLatinoEthnicity",
    )
    return (
        *_HEAD,
        _c("birthDate", "date"),
        _c("sex", "enum", False, *sexes),
        *(_c(f, "bool") for f in flags),
        _c("countryOfBirthCode"),
        _c("stateOfBirthAbbreviation"),
        _c("cityOfBirth"),
        _c("publicSchoolResidenceStatus"),
    )


_PERSON: Final = (
    _c("givenName", "text", True),
    _c("familyName", "text", True),
    _c("middleName"),
    _c("identifier"),
    _c("email"),
    _c("sms"),
    _c("phone"),
    _c("agentSourcedIds", "list"),
    _c("grades", "list"),
    _c("password"),
)

FILES: Final[dict[str, dict[str, tuple[Column, ...]]]] = {
    "1.1": {
        **_COMMON,
        "demographics": _demographics(SEX_1P1),
        "users": (
            *_HEAD,
            _c("enabledUser", "bool", True),
            _c("orgSourcedIds", "list", True),
            _c("role", "enum", True, *USER_ROLES_1P1),
            _c("username", "text", True),
            _c("userIds", "userIds"),
            *_PERSON,
        ),
    },
    "1.2": {
        **_COMMON,
        "demographics": _demographics(SEX_1P2),
        "users": (
            *_HEAD,
            _c("enabledUser", "bool", True),
            _c("username", "text", True),
            _c("userIds", "userIds"),
            *_PERSON,
            _c("userMasterIdentifier"),
            _c("preferredGivenName"),
            _c("preferredMiddleName"),
            _c("preferredFamilyName"),
            _c("primaryOrgSourcedId"),
            _c("pronouns"),
        ),
        "roles": (
            *_HEAD,
            _c("userSourcedId", "text", True),
            _c("roleType", "enum", True, "primary", "secondary"),
            _c("role", "enum", True, *ROLES_1P2),
            _c("beginDate", "date"),
            _c("endDate", "date"),
            _c("orgSourcedId", "text", True),
            _c("userProfileSourcedId"),
        ),
    },
}
