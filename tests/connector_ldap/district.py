"""Springfield's directory, written into a test ``slapd`` the way Active Directory holds it.

``ou=Springfield``: 30 students (two schools, grades in ``departmentNumber``, school number in
``physicalDeliveryOfficeName``, one account disabled through ``userAccountControl``), 6 staff (and
a computer account among them, as Active Directory keeps them), and
groups (Robotics Club, Teachers, Principals) whose members the ``memberof`` overlay writes into
each person's ``memberOf``. ``ou=Quiet``: the same OUs with nobody in them. ``ou=Broken``: entries
that break the rules (no ``employeeID``, one ``employeeID`` on two people).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ldap3 import Connection, Server

from connector_ldap.slapd import (
    LIMITED_DN,
    READER_DN,
    READER_PASSWORD,
    ROOT_DN,
    ROOT_PASSWORD,
    SUFFIX,
)

BASE = f"ou=Springfield,{SUFFIX}"
STUDENTS = f"ou=Students,{BASE}"
STAFF = f"ou=Staff,{BASE}"
GROUPS = f"ou=Groups,{BASE}"
QUIET = f"ou=Quiet,{SUFFIX}"
BROKEN = f"ou=Broken,{SUFFIX}"
GIVEN = ("Ava", "Ben", "Chloé", "Dev", "Emma", "Finn", "Grace", "Hugo", "Iris", "José")
FAMILY = ("Nguyen", "O'Brien", "Smith", "García", "Kowalski", "Lee")
#: Students 1–30: odd numbers at school 101, even at 102; student 7's account is disabled.
STUDENT_COUNT = 30
DISABLED_STUDENT = 7
ROBOTICS = (2, 3, 5, 11, 13)
STAFF_PEOPLE = (
    ("t1", "Maria", "Lopez", "101"),
    ("t2", "John", "Okafor", "101"),
    ("t3", "Wei", "Chen", "102"),
    ("t4", "Sara", "Haddad", "102"),
    ("p1", "Ruth", "Banks", "101"),
    ("a1", "Tom", "Reyes", "102"),
)
PRINCIPALS = ("p1",)


def guid(label: str) -> bytes:
    """A stable binary objectGUID (as Active Directory stores it: 16 bytes)."""
    return uuid.uuid5(uuid.NAMESPACE_DNS, f"{label}.springfield.k12").bytes_le


def student_dn(i: int, base: str = STUDENTS) -> str:
    return f"cn=Student {i:02d},{base}"


def staff_dn(key: str, base: str = STAFF) -> str:
    return f"cn=Staff {key},{base}"


def student(i: int) -> dict[str, Any]:
    return {
        "objectClass": ["inetOrgPerson", "adPerson"],
        "cn": "",
        "objectGUID": guid(f"student{i}"),
        "sAMAccountName": f"s{i:04d}",
        "employeeID": str(100000 + i),
        "givenName": GIVEN[i % len(GIVEN)],
        "sn": FAMILY[i % len(FAMILY)],
        "mail": f"s{i:04d}@students.springfield.k12",
        "physicalDeliveryOfficeName": "101" if i % 2 else "102",
        "departmentNumber": f"{(i % 6) + 1:02d}",
        "userAccountControl": "514" if i == DISABLED_STUDENT else "512",
    }


def staff(key: str, given: str, family: str, school: str) -> dict[str, Any]:
    return {
        "objectClass": ["inetOrgPerson", "adPerson"],
        "cn": "",
        "objectGUID": guid(f"staff-{key}"),
        "sAMAccountName": f"{given[0]}{family}".lower(),
        "employeeID": f"T{key.upper()}",
        "givenName": given,
        "sn": family,
        "mail": f"{given}.{family}@springfield.k12".lower(),
        "telephoneNumber": f"+1 555 010 {len(family):04d}",
        "physicalDeliveryOfficeName": school,
        "userAccountControl": "512",
    }


#: A computer account in the staff OU: of class user on Active Directory, but nobody.
COMPUTER_DN = f"cn=LAB-PC-01,{STAFF}"


def computer() -> dict[str, Any]:
    return {
        "objectClass": ["top", "person", "organizationalPerson", "user", "computer", "adPerson"],
        "cn": "LAB-PC-01",
        "sn": "LAB-PC-01",
        "instanceType": "4",
        "nTSecurityDescriptor": b"\x01",
        "objectCategory": f"cn=Computer,cn=Schema,{SUFFIX}",
        "objectGUID": guid("computer-lab-pc-01"),
        "sAMAccountName": "LAB-PC-01$",
        "userAccountControl": "4096",
    }


@dataclass
class Springfield:
    """What was written (tests compare extractions with it)."""

    students: dict[str, dict[str, Any]] = field(default_factory=dict)
    staff: dict[str, dict[str, Any]] = field(default_factory=dict)


def _ou(dn: str) -> tuple[str, dict[str, Any]]:
    return dn, {"objectClass": ["organizationalUnit"]}


def _entries(written: Springfield) -> Iterator[tuple[str, dict[str, Any]]]:
    organization = {"objectClass": ["dcObject", "organization"], "o": "Springfield"}
    yield SUFFIX, {**organization, "dc": "springfield"}
    yield _ou(f"ou=Service,{SUFFIX}")
    for dn in (READER_DN, LIMITED_DN):
        cn = dn.split(",")[0][3:]
        yield dn, {"objectClass": ["person"], "cn": cn, "sn": cn, "userPassword": READER_PASSWORD}
    for ou in (BASE, STUDENTS, STAFF, GROUPS, QUIET, f"ou=Students,{QUIET}", f"ou=Staff,{QUIET}"):
        yield _ou(ou)
    for i in range(1, STUDENT_COUNT + 1):
        written.students[student_dn(i)] = student(i)
        yield student_dn(i), student(i)
    for key, given, family, school in STAFF_PEOPLE:
        written.staff[staff_dn(key)] = staff(key, given, family, school)
        yield staff_dn(key), staff(key, given, family, school)
    yield COMPUTER_DN, computer()
    groups = {
        "Robotics Club": [student_dn(i) for i in ROBOTICS],
        "Teachers": [staff_dn(k) for k, *_ in STAFF_PEOPLE if k not in PRINCIPALS],
        "Principals": [staff_dn(k) for k in PRINCIPALS],
    }
    for name, members in groups.items():
        group = {"objectClass": ["groupOfNames"], "cn": name, "member": members}
        yield f"cn={name},{GROUPS}", group
    yield _ou(BROKEN)
    no_id = {k: v for k, v in student(91).items() if k != "employeeID"}
    yield student_dn(91, BROKEN), no_id
    twin = {**student(92), "employeeID": str(100000 + 93)}
    yield student_dn(92, BROKEN), twin
    yield student_dn(93, BROKEN), student(93)


def populate(url: str) -> Springfield:
    """Write Springfield into the directory at ``url`` (as its root DN)."""
    written = Springfield()
    conn = Connection(Server(url), ROOT_DN, ROOT_PASSWORD, auto_bind=True, raise_exceptions=True)
    try:
        for dn, attributes in _entries(written):
            values = {k: v for k, v in attributes.items() if k != "objectClass"}
            if values.get("cn") == "":
                values["cn"] = dn.split(",")[0][3:]
            conn.add(dn, attributes["objectClass"], values)
    finally:
        conn.unbind()
    return written


__all__ = ["READER_DN", "READER_PASSWORD", "Springfield", "populate"]
