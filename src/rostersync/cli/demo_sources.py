"""The multi-source demo district's inputs: a directory's accounts and a OneRoster CSV package.

Data from multiple sources, master fields: the second demo district is fed by the PowerSchool
simulator, an Active Directory look-alike holding the same district's students and teachers as
a directory holds them (login ``sAMAccountName``, ``mail``, ``employeeID`` = the SIS's student
or teacher number) and a OneRoster 1.1 CSV package exported by the district's family messaging
system (each student's mobile number as ``sms`` and, for some, ``phone``). All three are derived
from the simulated district's tables, columnar.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from rostersync.oneroster import FILE_SETS
from rostersync.simulators.powerschool import District

SUFFIX = "dc=demo,dc=k12"
STUDENTS_OU = f"ou=Students,ou=People,{SUFFIX}"
STAFF_OU = f"ou=Staff,ou=People,{SUFFIX}"
#: One active student in this many has no directory account yet (a new enrolment).
NOT_YET_PROVISIONED = 10
USERS_1P1 = [
    "sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role",
    "username", "userIds", "givenName", "familyName", "middleName", "identifier", "email",
    "sms", "phone", "agentSourcedIds", "grades", "password",
]  # fmt: skip
#: The package's other files: none is sent (users only).
ABSENT = tuple(name for name in FILE_SETS["1.1"] if name != "users")


def _login(first: pl.Expr, last: pl.Expr, number: pl.Expr) -> pl.Expr:
    """A directory login: first initial, last name and number, ASCII letters and digits."""
    raw = first.str.slice(0, 1) + last + number.cast(pl.Utf8)
    ascii_only = raw.str.normalize("NFKD").str.replace_all(r"[^A-Za-z0-9]", "")
    return ascii_only.str.to_lowercase()


def active_students(district: District) -> pl.DataFrame:
    """Active students: number, names, school DCID."""
    schools = district["schools"].select(pl.col("school_number").alias("schoolid"), "dcid")
    return (
        district["students"]
        .filter(pl.col("enroll_status") == 0)
        .join(schools.rename({"dcid": "school_dcid"}), on="schoolid", how="inner")
        .select("student_number", "first_name", "last_name", "school_dcid")
        .sort("student_number")
    )


def teachers(district: District) -> pl.DataFrame:
    """Staff who teach (``SchoolStaff.StaffStatus`` 1) somewhere: number, names."""
    staff = district["schoolstaff"]
    teaching = staff.filter((pl.col("staffstatus") == 1) & (pl.col("status") == 1))["users_dcid"]
    return (
        district["users"]
        .filter(pl.col("dcid").is_in(teaching.implode()) & pl.col("teachernumber").is_not_null())
        .select(pl.col("teachernumber").cast(pl.Utf8), "first_name", "last_name", "dcid")
        .sort("dcid")
    )


def directory_entries(district: District) -> Iterator[tuple[str, list[str], dict[str, Any]]]:
    """Every directory entry (dn, object classes, attributes), OUs first."""
    for ou in (f"ou=People,{SUFFIX}", STUDENTS_OU, STAFF_OU):
        yield ou, ["organizationalUnit"], {}
    students = active_students(district).filter(
        pl.int_range(pl.len()) % NOT_YET_PROVISIONED != NOT_YET_PROVISIONED - 1
    )
    accounts = [
        (students, STUDENTS_OU, "student_number", "students.demo.k12"),
        (teachers(district), STAFF_OU, "teachernumber", "demo.k12"),
    ]
    for frame, ou, number, domain in accounts:
        rows = frame.with_columns(
            _login(pl.col("first_name"), pl.col("last_name"), pl.col(number)).alias("login")
        )
        for row in rows.iter_rows(named=True):
            login = row["login"]
            yield (
                f"cn={login},{ou}",
                ["inetOrgPerson", "adPerson"],
                {
                    "cn": login,
                    "sn": row["last_name"],
                    "givenName": row["first_name"],
                    "sAMAccountName": login,
                    "mail": f"{login}@{domain}",
                    "employeeID": str(row[number]),
                    "objectGUID": uuid.uuid5(uuid.NAMESPACE_DNS, f"{login}.{domain}").bytes_le,
                    "userAccountControl": "512",
                },
            )


def write_messaging_package(district: District, folder: Path) -> Path:
    """A OneRoster 1.1 bulk package of users (students) from the family messaging system.

    Its own IDs; the SIS's student number as ``identifier``; every student's mobile as
    ``sms``, and as ``phone`` for every other student (the others fall back to the SIS's).
    """
    folder.mkdir(parents=True, exist_ok=True)
    students = active_students(district)
    index = pl.int_range(pl.len())
    mobile = pl.format("(206) 555-{}", (index % 10000).cast(pl.Utf8).str.zfill(4))
    users = students.select(
        pl.format("msg-{}", pl.col("student_number")).alias("sourcedId"),
        pl.lit("").alias("status"),
        pl.lit("").alias("dateLastModified"),
        pl.lit("true").alias("enabledUser"),
        pl.col("school_dcid").cast(pl.Utf8).alias("orgSourcedIds"),
        pl.lit("student").alias("role"),
        pl.format("m{}", pl.col("student_number")).alias("username"),
        pl.lit("").alias("userIds"),
        pl.col("first_name").alias("givenName"),
        pl.col("last_name").alias("familyName"),
        pl.lit("").alias("middleName"),
        pl.col("student_number").cast(pl.Utf8).alias("identifier"),
        pl.lit("").alias("email"),
        mobile.alias("sms"),
        pl.when(index % 2 == 0).then(mobile).otherwise(pl.lit("")).alias("phone"),
        pl.lit("").alias("agentSourcedIds"),
        pl.lit("").alias("grades"),
        pl.lit("").alias("password"),
    )
    users.select(USERS_1P1).write_csv(folder / "users.csv")
    with (folder / "manifest.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["propertyName", "value"])
        writer.writerow(["manifest.version", "1.0"])
        writer.writerow(["oneroster.version", "1.1"])
        writer.writerow(["file.users", "bulk"])
        for name in ABSENT:
            writer.writerow([f"file.{name}", "absent"])
    return folder
