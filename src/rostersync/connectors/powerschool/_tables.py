"""Which PowerSchool tables and columns the connector reads through ``/ws/schema/table``.

One declaration serves two purposes: the extraction reads exactly these columns, and the plugin
generator grants exactly these columns in ``<access_request>`` (plugin access governs the schema
table API, not the v1 resources). A configuration that names custom fields (``TABLE.field``) adds
reads of those tables, keyed by the DCID of the record they extend.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: A custom source field such as ``U_DEF_EXT_STUDENTS.school_email``.
TABLE_FIELD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")


@dataclass(frozen=True)
class TableRead:
    """Columns of one table read through the table API, with an optional ``q`` filter."""

    table: str
    columns: tuple[str, ...]
    q: str | None = None


@dataclass(frozen=True)
class CustomRead:
    """Custom fields of one table for one entity type, and the key joining them to records."""

    entity_type: str
    table: str
    key: str
    #: (column as the table API names it, field exactly as the configuration names it)
    fields: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def read(self) -> TableRead:
        return TableRead(self.table, (self.key, *(c for c, _ in self.fields)))


#: DCID of SECTIONS and SchoolStaff by their internal ID (SectionTeacher points with IDs).
SECTION_IDS = TableRead("sections", ("id", "dcid"))
STAFF_IDS = TableRead("schoolstaff", ("id", "users_dcid"))
SECTION_TEACHERS = TableRead(
    "sectionteacher",
    ("id", "sectionid", "teacherid", "roleid", "priorityorder", "start_date", "end_date"),
)
ROLES = TableRead("roledef", ("id", "name", "rolekey"))
CALENDAR_DAYS = TableRead("calendar_day", ("schoolid", "date_value", "insession"), q="insession==1")

#: The Contacts module (PowerSchool 12+).
CONTACT_TABLES: tuple[TableRead, ...] = (
    TableRead("person", ("id", "firstname", "middlename", "lastname", "isactive")),
    TableRead(
        "studentcontactassoc",
        ("studentcontactassocid", "studentdcid", "personid", "contactpriorityorder"),
    ),
    TableRead(
        "studentcontactdetail",
        (
            "studentcontactassocid",
            "relationshiptypecodesetid",
            "iscustodial",
            "liveswithflg",
            "isemergency",
            "receivesmailflg",
            "isactive",
        ),
    ),
    TableRead("emailaddress", ("emailaddressid", "emailaddress")),
    TableRead(
        "personemailaddressassoc",
        ("personid", "emailaddressid", "isprimaryemailaddress", "emailaddresspriorityorder"),
    ),
    TableRead("phonenumber", ("phonenumberid", "phonenumber", "issms")),
    TableRead(
        "personphonenumberassoc",
        ("personid", "phonenumberid", "ispreferred", "phonenumberpriorityorder"),
    ),
    TableRead("codeset", ("codesetid", "codetype", "code", "displayvalue")),
)

#: The core table behind each entity type whose records custom fields can extend.
CORE_TABLES: Mapping[str, str] = {
    "student": "students",
    "teacher": "users",
    "admin": "users",
    "class": "sections",
    "course": "courses",
}


def custom_reads(custom_fields: Mapping[str, Iterable[str]]) -> list[CustomRead]:
    """Group configured ``TABLE.field`` names per (entity type, table).

    The core table itself is keyed by ``dcid``; an extension or core-fields table
    (``U_DEF_EXT_STUDENTS``, ``StudentCoreFields``) by ``<core>dcid`` (``studentsdcid``).
    """
    grouped: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for entity_type, names in custom_fields.items():
        core = CORE_TABLES.get(entity_type)
        if core is None:
            continue
        for name in names:
            m = TABLE_FIELD.match(name)
            if not m:
                continue
            table = m.group(1).lower()
            pair = (m.group(2).lower(), name)
            bucket = grouped.setdefault((entity_type, table), [])
            if pair not in bucket:
                bucket.append(pair)
    out = []
    for (entity_type, table), pairs in grouped.items():
        core = CORE_TABLES[entity_type]
        key = "dcid" if table == core else f"{core}dcid"
        out.append(CustomRead(entity_type, table, key, tuple(pairs)))
    return out


def access_fields(reads: Iterable[TableRead]) -> dict[str, list[str]]:
    """table → columns to grant, merged and in first-seen order."""
    out: dict[str, list[str]] = {}
    for r in reads:
        cols = out.setdefault(r.table, [])
        for c in r.columns:
            if c not in cols:
                cols.append(c)
    return out
