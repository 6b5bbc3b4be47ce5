"""OneRoster CSV file sets and column headers, in the order the binding requires.

1.1 has 13 data files, 1.2 has 21; every one is listed in the manifest (``bulk``, ``delta`` or
``absent``). Only the rostering files are filled from the canonical roster; the gradebook and
resources files are always ``absent``. Tests compare these lists with the project's
machine-readable column reference.
"""

from __future__ import annotations

from typing import Final

from rostersync.oneroster import FILE_SETS

__all__ = ["FILE_SETS", "HEADERS"]

_HEAD: Final = ("sourcedId", "status", "dateLastModified")

ACADEMIC_SESSIONS: Final = (
    *_HEAD,
    "title",
    "type",
    "startDate",
    "endDate",
    "parentSourcedId",
    "schoolYear",
)
ORGS: Final = (*_HEAD, "name", "type", "identifier", "parentSourcedId")
COURSES: Final = (
    *_HEAD,
    "schoolYearSourcedId",
    "title",
    "courseCode",
    "grades",
    "orgSourcedId",
    "subjects",
    "subjectCodes",
)
CLASSES: Final = (
    *_HEAD,
    "title",
    "grades",
    "courseSourcedId",
    "classCode",
    "classType",
    "location",
    "schoolSourcedId",
    "termSourcedIds",
    "subjects",
    "subjectCodes",
    "periods",
)
ENROLLMENTS: Final = (
    *_HEAD,
    "classSourcedId",
    "schoolSourcedId",
    "userSourcedId",
    "role",
    "primary",
    "beginDate",
    "endDate",
)
DEMOGRAPHICS: Final = (
    *_HEAD,
    "birthDate",
    "sex",
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity",
    "countryOfBirthCode",
    "stateOfBirthAbbreviation",
    "cityOfBirth",
    "publicSchoolResidenceStatus",
)
USERS_1P1: Final = (
    *_HEAD,
    "enabledUser",
    "orgSourcedIds",
    "role",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
)
USERS_1P2: Final = (
    *_HEAD,
    "enabledUser",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
    "userMasterIdentifier",
    "preferredGivenName",
    "preferredMiddleName",
    "preferredFamilyName",
    "primaryOrgSourcedId",
    "pronouns",
)
ROLES_1P2: Final = (
    *_HEAD,
    "userSourcedId",
    "roleType",
    "role",
    "beginDate",
    "endDate",
    "orgSourcedId",
    "userProfileSourcedId",
)

#: Headers of the files rostersync fills, per version.
HEADERS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "1.1": {
        "academicSessions": ACADEMIC_SESSIONS,
        "orgs": ORGS,
        "courses": COURSES,
        "classes": CLASSES,
        "enrollments": ENROLLMENTS,
        "demographics": DEMOGRAPHICS,
        "users": USERS_1P1,
    },
    "1.2": {
        "academicSessions": ACADEMIC_SESSIONS,
        "orgs": ORGS,
        "courses": COURSES,
        "classes": CLASSES,
        "enrollments": ENROLLMENTS,
        "demographics": DEMOGRAPHICS,
        "users": USERS_1P2,
        "roles": ROLES_1P2,
    },
}
