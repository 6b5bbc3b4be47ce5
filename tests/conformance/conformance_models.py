"""OneRoster 1.1 and 1.2 REST payloads as strict Pydantic models, written from the specifications.

Independent of the provider's own code (its catalogue and serializers are not imported): every
model here comes from the OneRoster 1.1 REST binding and the 1.2 Rostering OpenAPI as summarised
in the project's OneRoster reference (§3.4): base fields on every entity, GUIDRefs with ``href``,
``sourcedId`` and ``type``, string booleans ``"true"``/``"false"``, dates ``YYYY-MM-DD``, UTC
date-times, the enumerations of §2.5, and ``additionalProperties: false`` (``extra="forbid"``), so
a vendor field outside ``metadata`` is a violation.

Where 1.2 leaves a field optional but strict consumers refuse it missing (an org's
``identifier``, an enrollment's ``primary``), the model requires it: that is what the hub
promises to every consumer.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

GUID_PATTERN = r"^[0-9A-Za-z.\-_/@]{1,255}$"
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("required text is blank")
    return value


def _date(value: str) -> str:
    if not _DATE.fullmatch(value):
        raise ValueError(f"{value!r} is not a date YYYY-MM-DD")
    dt.date.fromisoformat(value)
    return value


def _datetime(value: str) -> str:
    if not _DATETIME.fullmatch(value):
        raise ValueError(f"{value!r} is not a UTC date-time YYYY-MM-DDThh:mm:ss[.fff]Z")
    dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


Text = Annotated[str, Field(min_length=1), AfterValidator(_non_blank)]
GUID = Annotated[str, Field(pattern=GUID_PATTERN)]
Date = Annotated[str, AfterValidator(_date)]
DateTime = Annotated[str, AfterValidator(_datetime)]
Year = Annotated[str, Field(pattern=r"^\d{4}$")]
BoolStr = Literal["true", "false"]
Status = Literal["active", "tobedeleted"]
Metadata = dict[str, Any]

ORG_TYPES = Literal["department", "school", "district", "local", "state", "national"]
SESSION_TYPES = Literal["gradingPeriod", "semester", "schoolYear", "term"]
CLASS_TYPES = Literal["homeroom", "scheduled"]
ENROLLMENT_ROLES = Literal["administrator", "proctor", "student", "teacher"]
USER_ROLES_1P1 = Literal[
    "administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"
]
ROLES_1P2 = Literal[
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
]
SEX_1P1 = Literal["male", "female"]
SEX_1P2 = Literal["male", "female", "unspecified", "other"]
REF_TYPES = Literal[
    "academicSession",
    "category",
    "class",
    "course",
    "demographics",
    "enrollment",
    "gradingPeriod",
    "lineItem",
    "org",
    "resource",
    "result",
    "scoreScale",
    "student",
    "teacher",
    "term",
    "user",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class GUIDRef(Strict):
    href: Text
    sourcedId: GUID
    type: REF_TYPES


class Base(Strict):
    sourcedId: GUID
    status: Status
    dateLastModified: DateTime
    metadata: Metadata | None = None


# --- entities common to both versions --------------------------------------------------------


class AcademicSession(Base):
    title: Text
    startDate: Date
    endDate: Date
    type: SESSION_TYPES
    parent: GUIDRef | None = None
    children: list[GUIDRef] | None = None
    schoolYear: Year


class AcademicSession1p2(AcademicSession):
    org: GUIDRef | None = None


class Org1p1(Base):
    name: Text
    type: ORG_TYPES
    identifier: Text | None = None
    parent: GUIDRef | None = None
    children: list[GUIDRef] | None = None


class Org1p2(Org1p1):
    identifier: Text


class Course1p1(Base):
    title: Text
    schoolYear: GUIDRef | None = None
    courseCode: Text | None = None
    grades: list[Text] | None = None
    subjects: list[Text] | None = None
    org: GUIDRef
    subjectCodes: list[Text] | None = None
    resources: list[GUIDRef] | None = None


class Course1p2(Course1p1):
    courseCode: Text
    org: GUIDRef | None = None  # type: ignore[assignment]


class Class1p1(Base):
    title: Text
    classCode: Text | None = None
    classType: CLASS_TYPES
    location: Text | None = None
    grades: list[Text] | None = None
    subjects: list[Text] | None = None
    course: GUIDRef
    school: GUIDRef
    terms: Annotated[list[GUIDRef], Field(min_length=1)]
    subjectCodes: list[Text] | None = None
    periods: list[Text] | None = None
    resources: list[GUIDRef] | None = None


class Class1p2(Class1p1):
    classType: CLASS_TYPES | None = None  # type: ignore[assignment]


class UserId(Strict):
    type: Text
    identifier: Text


class User1p1(Base):
    username: Text
    userIds: list[UserId] | None = None
    enabledUser: BoolStr
    givenName: Text
    familyName: Text
    middleName: Text | None = None
    role: USER_ROLES_1P1
    identifier: Text | None = None
    email: Text | None = None
    sms: Text | None = None
    phone: Text | None = None
    agents: list[GUIDRef] | None = None
    orgs: Annotated[list[GUIDRef], Field(min_length=1)]
    grades: list[Text] | None = None
    password: Text | None = None


class Role1p2(Strict):
    roleType: Literal["primary", "secondary"]
    role: ROLES_1P2
    org: GUIDRef
    userProfile: Text | None = None
    beginDate: Date | None = None
    endDate: Date | None = None


class Credential(Strict):
    type: Text
    username: Text
    password: Text | None = None


class UserProfile(Strict):
    profileId: Text
    profileType: Text
    vendorId: Text
    applicationId: Text | None = None
    description: Text | None = None
    credentials: list[Credential]


class User1p2(Base):
    userMasterIdentifier: Text | None = None
    username: Text | None = None
    userIds: list[UserId] | None = None
    enabledUser: BoolStr
    givenName: Text
    familyName: Text
    middleName: Text | None = None
    preferredFirstName: Text | None = None
    preferredMiddleName: Text | None = None
    preferredLastName: Text | None = None
    pronouns: Text | None = None
    roles: Annotated[list[Role1p2], Field(min_length=1)]
    userProfiles: list[UserProfile] | None = None
    primaryOrg: GUIDRef | None = None
    identifier: Text | None = None
    email: Text | None = None
    sms: Text | None = None
    phone: Text | None = None
    agents: list[GUIDRef] | None = None
    grades: list[Text] | None = None
    password: Text | None = None
    resources: list[GUIDRef] | None = None


class Enrollment1p1(Base):
    user: GUIDRef
    class_: GUIDRef = Field(alias="class")
    school: GUIDRef
    role: ENROLLMENT_ROLES
    primary: BoolStr | None = None
    beginDate: Date | None = None
    endDate: Date | None = None


class Enrollment1p2(Enrollment1p1):
    primary: BoolStr  # type: ignore[assignment]


class Demographics1p1(Base):
    birthDate: Date | None = None
    sex: SEX_1P1 | None = None
    americanIndianOrAlaskaNative: BoolStr | None = None
    asian: BoolStr | None = None
    blackOrAfricanAmerican: BoolStr | None = None
    nativeHawaiianOrOtherPacificIslander: BoolStr | None = None
    white: BoolStr | None = None
    demographicRaceTwoOrMoreRaces: BoolStr | None = None
    hispanicOrLatinoEthnicity: BoolStr | None = None
    countryOfBirthCode: Text | None = None
    stateOfBirthAbbreviation: Text | None = None
    cityOfBirth: Text | None = None
    publicSchoolResidenceStatus: Text | None = None


class Demographics1p2(Demographics1p1):
    sex: SEX_1P2 | None = None  # type: ignore[assignment]


#: Per version: collection key → (single key, entity model).
ENTITY_MODELS: dict[str, dict[str, tuple[str, type[Base]]]] = {
    "1.1": {
        "orgs": ("org", Org1p1),
        "academicSessions": ("academicSession", AcademicSession),
        "courses": ("course", Course1p1),
        "classes": ("class", Class1p1),
        "users": ("user", User1p1),
        "enrollments": ("enrollment", Enrollment1p1),
        "demographics": ("demographics", Demographics1p1),
    },
    "1.2": {
        "orgs": ("org", Org1p2),
        "academicSessions": ("academicSession", AcademicSession1p2),
        "courses": ("course", Course1p2),
        "classes": ("class", Class1p2),
        "users": ("user", User1p2),
        "enrollments": ("enrollment", Enrollment1p2),
        "demographics": ("demographics", Demographics1p2),
    },
}

#: The ref ``type`` a reference field must carry (by entity and field).
REF_TYPE_OF: dict[str, str] = {
    "parent": "",  # org → org, session → academicSession (checked by the entity)
    "course": "course",
    "school": "org",
    "org": "org",
    "primaryOrg": "org",
    "orgs": "org",
    "terms": "academicSession",
    "user": "user",
    "class": "class",
    "agents": "user",
    "schoolYear": "academicSession",
}


# --- status payloads ---------------------------------------------------------------------------


class CodeMinorField(Strict):
    imsx_codeMinorFieldName: Text
    imsx_codeMinorFieldValue: Literal[
        "fullsuccess",
        "invalid_filter_field",
        "invalid_selection_field",
        "invalid_sort_field",
        "invaliddata",
        "unauthorisedrequest",
        "forbidden",
        "server_busy",
        "unknownobject",
        "internal_server_error",
        "unsupported",
    ]


class CodeMinor(Strict):
    imsx_codeMinorField: Annotated[list[CodeMinorField], Field(min_length=1)]


class StatusInfo(Strict):
    imsx_codeMajor: Literal["success", "processing", "failure", "unsupported"]
    imsx_severity: Literal["status", "warning", "error"]
    imsx_description: str | None = None
    imsx_CodeMinor: CodeMinor


class StatusInfoSet(Strict):
    statusInfoSet: Annotated[list[StatusInfo], Field(min_length=1)]


def envelope_errors(version: str, key: str, body: Any, *, single: bool) -> list[str]:
    """Every violation of a response body: its envelope, then each entity in it.

    ``key`` is the collection key (``users``…). Returns readable messages naming the record.
    """
    single_key, model = ENTITY_MODELS[version][key]
    want = single_key if single else key
    if not isinstance(body, dict) or set(body) != {want}:
        got = sorted(body) if isinstance(body, dict) else type(body).__name__
        return [f"envelope: expected exactly the key {want!r}, got {got}"]
    items = [body[want]] if single else body[want]
    if not isinstance(items, list):
        return [f"envelope: {want!r} is not an array"]
    errors: list[str] = []
    for item in items:
        errors.extend(entity_errors(model, item))
    return errors


def entity_errors(model: type[Base], item: Any) -> list[str]:
    """The violations of one entity object, each naming its sourcedId and field."""
    sid = item.get("sourcedId") if isinstance(item, dict) else None
    try:
        parsed = model.model_validate(item)
    except ValidationError as exc:
        return [
            f"{model.__name__} {sid}: {'.'.join(map(str, e['loc']))}: {e['msg']}"
            f" (got {str(e.get('input'))[:80]!r})"
            for e in exc.errors()
        ]
    return [f"{model.__name__} {sid}: {m}" for m in _ref_type_errors(parsed)]


def _ref_type_errors(parsed: Base) -> list[str]:
    out: list[str] = []
    for name, value in parsed:
        want = REF_TYPE_OF.get(name)
        if name == "parent":
            want = "org" if isinstance(parsed, Org1p1) else "academicSession"
        if name == "class_":
            want = "class"
        if not want:
            continue
        refs = value if isinstance(value, list) else [value]
        for ref in refs:
            if isinstance(ref, GUIDRef) and ref.type != want:
                out.append(f"{name}: ref type {ref.type!r}, expected {want!r}")
    if isinstance(parsed, User1p2):
        for role in parsed.roles:
            if role.org.type != "org":
                out.append(f"roles.org: ref type {role.org.type!r}, expected 'org'")
    return out


def status_errors(version: str, body: Any) -> list[str]:
    """Violations of an error body: 1.2's imsx_StatusInfo, 1.1's statusInfoSet."""
    model: type[Strict] = StatusInfo if version == "1.2" else StatusInfoSet
    try:
        model.model_validate(body)
    except ValidationError as exc:
        return [
            f"{model.__name__}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
        ]
    return []
