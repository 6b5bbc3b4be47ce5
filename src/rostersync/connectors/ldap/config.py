"""LDAP / Active Directory connector options: the ``connector:`` block of an ``ldap`` source.

Delivery config says where the directory is and who binds: ``delivery.url`` is the server
(``ldap://host:389`` or ``ldaps://host:636``), ``delivery.client_id`` the bind DN (or an Active
Directory ``user@domain``) and ``delivery.client_secret`` a reference to the bind password
(``store:NAME`` keeps it encrypted in the district's secret store). This block says what to read:
one paged search for students and one for staff, the attribute mapping of each (canonical
attribute ← LDAP attribute), where a person's school is written, and how group membership is
read. Each option is declared once, with its type, default and help text.
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal

from ldap3.core.exceptions import LDAPInvalidDnError, LDAPInvalidFilterError
from ldap3.operation.search import parse_filter
from ldap3.utils.dn import parse_dn
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rostersync.errors import ConfigValidationError, Problem

Directory = Literal["active_directory", "openldap"]
StaffRole = Literal["teacher", "aide", "administrator"]
#: Canonical ``users`` attributes an LDAP attribute may be mapped onto.
MappedAttribute = Literal[
    "username",
    "givenName",
    "familyName",
    "middleName",
    "preferredFirstName",
    "preferredLastName",
    "identifier",
    "email",
    "sms",
    "phone",
    "grades",
]

#: The attribute mapping each directory kind starts from (a search's ``attributes`` override it).
DEFAULT_ATTRIBUTES: Final[dict[str, dict[str, str]]] = {
    "active_directory": {
        "username": "sAMAccountName",
        "givenName": "givenName",
        "familyName": "sn",
        "email": "mail",
        "identifier": "employeeID",
        "phone": "telephoneNumber",
    },
    "openldap": {
        "username": "uid",
        "givenName": "givenName",
        "familyName": "sn",
        "email": "mail",
        "identifier": "employeeNumber",
        "phone": "telephoneNumber",
    },
}
#: The people a search reads when it gives no filter. Active Directory's computer accounts are
#: of class user too, so they are left out there.
DEFAULT_FILTER: Final = {
    "active_directory": (
        "(&(|(objectClass=user)(objectClass=inetOrgPerson))(!(objectClass=computer)))"
    ),
    "openldap": "(objectClass=inetOrgPerson)",
}
#: The attribute that identifies an entry for good (it survives renames and moves).
DEFAULT_ID_ATTRIBUTE: Final = {"active_directory": "objectGUID", "openldap": "entryUUID"}
_ATTRIBUTE_NAME = r"^[A-Za-z][A-Za-z0-9-]*$"


def _check_filter(value: str) -> str:
    try:
        parse_filter(value, None, True, False, None, False)  # type: ignore[no-untyped-call]
    except LDAPInvalidFilterError:
        raise ValueError(
            f"{value!r} is not an LDAP search filter: write it in parentheses, e.g. "
            "(objectClass=user) or (&(objectClass=user)(employeeID=*))"
        ) from None
    return value


def _check_dn(value: str) -> str:
    try:
        parse_dn(value)
    except LDAPInvalidDnError:
        raise ValueError(
            f"{value!r} is not a distinguished name, e.g. OU=Students,DC=district,DC=org"
        ) from None
    return value


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PeopleSearch(_Options):
    """One paged search: where a kind of person is, and how their entries map onto users."""

    base_dn: str = Field(description="Where the search starts, e.g. OU=Students,DC=sd,DC=org.")
    filter: str | None = Field(
        None,
        description="LDAP filter of the entries to read; default: people, computer accounts "
        "left out on Active Directory (computers are users there too). Group membership works "
        "here too, e.g. (memberOf=CN=Teachers,OU=Groups,DC=sd,DC=org).",
    )
    scope: Literal["subtree", "one_level"] = Field(
        "subtree", description="subtree (the base and everything below) or one_level."
    )
    id_attribute: str | None = Field(
        None,
        pattern=_ATTRIBUTE_NAME,
        description="The attribute whose value is the record's ID; default objectGUID (Active "
        "Directory) or entryUUID (OpenLDAP). Map onto the SIS ID (e.g. employeeID) to merge "
        "with a SIS by ID.",
    )
    id_prefix: str = Field(
        "",
        pattern=r"^[A-Za-z0-9_.:-]*$",
        description="Text put before the ID attribute's value, to meet the IDs another source "
        "gives the same people (e.g. staff- with PowerSchool's staff DCIDs in employeeID).",
    )
    attributes: dict[MappedAttribute, str | None] = Field(
        default_factory=dict,
        description="Attribute mapping: canonical attribute ← LDAP attribute, over the "
        "directory's defaults (sAMAccountName, givenName, sn, mail, employeeID, "
        "telephoneNumber on Active Directory); null unmaps a default.",
    )
    school_attribute: str | None = Field(
        None,
        pattern=_ATTRIBUTE_NAME,
        description="The attribute holding the person's school ID (e.g. physicalDeliveryOffice"
        "Name or department); its values become the source's schools.",
    )
    extra_attributes: list[str] = Field(
        default_factory=list,
        description="More LDAP attributes to keep, each as metadata.<attribute> (filterable).",
    )
    role: StaffRole = Field(
        "teacher", description="Staff only: the role of everyone the search finds."
    )
    roles_by_group: dict[str, StaffRole] = Field(
        default_factory=dict,
        description="Staff only: group name → role, first match in order (e.g. Principals: "
        "administrator); others keep `role`.",
    )

    _dn = field_validator("base_dn")(_check_dn)

    @field_validator("filter")
    @classmethod
    def _people_filter(cls, value: str | None) -> str | None:
        return None if value is None else _check_filter(value)

    @field_validator("attributes")
    @classmethod
    def _ldap_names(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        for target, name in value.items():
            if name is not None and not _valid_name(name):
                raise ValueError(f"{target}: {name!r} is not an LDAP attribute name")
        return value

    @field_validator("extra_attributes")
    @classmethod
    def _extra_names(cls, value: list[str]) -> list[str]:
        bad = [n for n in value if not _valid_name(n)]
        if bad:
            raise ValueError(f"not LDAP attribute names: {', '.join(map(repr, bad))}")
        if any(n.lower() == "groups" for n in value):
            raise ValueError("`groups` is where a person's groups are kept (metadata.groups)")
        return value


def _valid_name(name: str) -> bool:
    return re.match(_ATTRIBUTE_NAME, name) is not None


class GroupOptions(_Options):
    """How a person's groups are read: they become ``metadata.groups``, a filterable list."""

    membership: Literal["member_of", "group_search"] = Field(
        "member_of",
        description="member_of reads each person's memberOf (Active Directory, OpenLDAP with "
        "the memberof overlay); group_search reads the groups' member lists under base_dn.",
    )
    base_dn: str | None = Field(None, description="group_search: where the groups are.")
    filter: str = Field(
        "(|(objectClass=group)(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
        description="group_search: the LDAP filter of the groups to read.",
    )
    name_attribute: str = Field(
        "cn", pattern=_ATTRIBUTE_NAME, description="group_search: the group's name attribute."
    )
    member_attribute: str = Field(
        "member",
        pattern=_ATTRIBUTE_NAME,
        description="group_search: the attribute listing member DNs (member or uniqueMember).",
    )

    _filter = field_validator("filter")(_check_filter)

    @field_validator("base_dn")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        return None if value is None else _check_dn(value)

    @model_validator(mode="after")
    def _search_needs_base(self) -> GroupOptions:
        if self.membership == "group_search" and not self.base_dn:
            raise ValueError("membership group_search needs base_dn (where the groups are)")
        unused = sorted(
            self.model_fields_set & {"base_dn", "filter", "name_attribute", "member_attribute"}
        )
        if self.membership == "member_of" and unused:
            raise ValueError(
                f"{unused[0]} applies to membership: group_search (with member_of each "
                "person's memberOf is read)"
            )
        return self


class LdapOptions(_Options):
    """Connector-specific settings of an LDAP / Active Directory source."""

    directory: Directory = Field(
        "active_directory",
        description="active_directory or openldap: picks the default ID attribute and "
        "attribute mapping, and whether userAccountControl marks disabled accounts.",
    )
    students: PeopleSearch | None = Field(None, description="The search for students.")
    staff: PeopleSearch | None = Field(None, description="The search for staff.")
    groups: GroupOptions = Field(
        default_factory=GroupOptions, description="How group membership is read."
    )
    district_name: str | None = Field(
        None,
        min_length=1,
        description="When given, a district org of this name that every school belongs to.",
    )
    school_names: dict[str, str] = Field(
        default_factory=dict, description="School ID (as the school_attribute holds it) → name."
    )
    page_size: int = Field(
        500, ge=1, le=5000, description="Entries per page of a paged search (AD's limit: 1000)."
    )
    concurrency: int = Field(2, ge=1, le=8, description="Searches in flight at once (bounded).")
    timeout_seconds: float = Field(
        30.0, gt=0, le=600, description="Timeout of connecting and of each answer."
    )
    start_tls: bool = Field(False, description="Upgrade an ldap:// connection with StartTLS.")
    verify_tls: bool = Field(True, description="Check the server's TLS certificate.")
    ca_file: str | None = Field(
        None,
        min_length=1,
        description="PEM file of the CA that signed the server's certificate (a district's "
        "own CA); default: the system's trusted CAs.",
    )

    @model_validator(mode="after")
    def _something_to_read(self) -> LdapOptions:
        if self.students is None and self.staff is None:
            raise ValueError("give `students`, `staff` or both: the searches to read")
        given = self.students.model_fields_set if self.students else set()
        staff_only = sorted(given & {"role", "roles_by_group"})
        if staff_only:
            raise ValueError(
                f"students.{staff_only[0]}: roles apply to the staff search only (everyone "
                "the students search finds is a student)"
            )
        return self

    def searches(self) -> dict[str, PeopleSearch]:
        """The configured searches by name (``students``, ``staff``)."""
        found = {"students": self.students, "staff": self.staff}
        return {name: s for name, s in found.items() if s is not None}

    def filter_of(self, search: PeopleSearch) -> str:
        """The search's filter, or the directory's default one."""
        return search.filter or DEFAULT_FILTER[self.directory]

    def id_attribute(self, search: PeopleSearch) -> str:
        return search.id_attribute or DEFAULT_ID_ATTRIBUTE[self.directory]

    def mapping(self, search: PeopleSearch) -> dict[str, str]:
        """The effective attribute mapping of a search: defaults, then its own."""
        merged: dict[str, str | None] = {**DEFAULT_ATTRIBUTES[self.directory]}
        merged.update({str(k): v for k, v in search.attributes.items()})
        return {target: name for target, name in merged.items() if name}


def parse_options(raw: Any, source_name: str = "connector") -> LdapOptions:
    """Validate the ``connector:`` block, reporting every problem with its path."""
    try:
        return LdapOptions.model_validate(raw or {})
    except ValidationError as exc:
        problems = [
            Problem(".".join(str(p) for p in (source_name, *err["loc"])), err["msg"])
            for err in exc.errors()
        ]
        raise ConfigValidationError(f"{source_name} (LDAP options)", problems) from exc
