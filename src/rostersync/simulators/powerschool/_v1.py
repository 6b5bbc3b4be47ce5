"""v1 resources (`/ws/v1`): the served views (columnar) and the XML-mapped JSON of one page.

Views are whole-table joins built once per district revision; a page is a slice of a view, and
only that slice becomes Python dicts. JSON quirks (reference §3): single elements are objects,
empty requested expansions are "", missing scalars are omitted, digit-only values are numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import polars as pl

from . import _fiql
from ._generate import GRADUATED_SCHOOL
from .district import District

Row = dict[str, Any]

STUDENT_EXPANSIONS = (
    "demographics",
    "addresses",
    "alerts",
    "phones",
    "school_enrollment",
    "ethnicity_race",
    "contact",
    "contact_info",
    "initial_enrollment",
    "schedule_setup",
    "fees",
    "lunch",
)
STAFF_EXPANSIONS = ("addresses", "emails", "phones", "school_affiliations")
SCHOOL_EXPANSIONS = ("school_boundary", "full_time_equivalencies", "school_fees_setup")
SECTION_EXPANSIONS = ("term",)
DISTRICT_EXPANSIONS = ("entry_codes", "exit_codes", "district_race_codes")
STUDENT_EXTENSIONS = ("s_stu_crdc_x", "studentcorefields", "u_students_extension")
#: extension name → (served table, its fields)
EXTENSION_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "u_students_extension": ("u_def_ext_students", ("school_email", "preferredname")),
    "studentcorefields": (
        "studentcorefields",
        (
            "pscore_legal_first_name",
            "pscore_legal_last_name",
            "pscore_legal_gender",
            "immunization_dpt",
        ),
    ),
    "s_stu_crdc_x": ("s_stu_crdc_x", ()),
}
STATUS_LETTER = {0: "A", -1: "P", 2: "T", 3: "G", 4: "H"}
STATUS_TEXT = {
    0: "Active",
    -1: "Pre-Registered",
    2: "Transferred Out",
    3: "Graduated",
    4: "Historical",
}
LETTER_CODE = {"A": "0", "P": "-1", "T": "2", "G": "3", "H": "4", "I": "1"}

STUDENT_Q: dict[str, _fiql.Target] = {
    "id": _fiql.Target("dcid"),
    "local_id": _fiql.Target("student_number"),
    "student_username": _fiql.Target("student_web_id"),
    "state_province_id": _fiql.Target("state_studentnumber"),
    "name.last_name": _fiql.Target("last_name"),
    "name.first_name": _fiql.Target("first_name"),
    "name.middle_name": _fiql.Target("middle_name"),
    "school_enrollment.enroll_status": _fiql.Target(
        "enroll_status", lambda v: LETTER_CODE.get(v.upper(), v)
    ),
    "school_enrollment.enroll_status_code": _fiql.Target("enroll_status"),
    "school_enrollment.entry_date": _fiql.Target("entrydate"),
    "school_enrollment.exit_date": _fiql.Target("exitdate"),
    "school_enrollment.grade_level": _fiql.Target("grade_level"),
    "school_enrollment.school_number": _fiql.Target("schoolid"),
}
STAFF_Q = {
    "id": _fiql.Target("users_dcid"),
    "local_id": _fiql.Target("teachernumber"),
    "name.last_name": _fiql.Target("last_name"),
    "name.first_name": _fiql.Target("first_name"),
    "admin_username": _fiql.Target("loginid"),
    "teacher_username": _fiql.Target("teacherloginid"),
}
SECTION_Q = {
    "id": _fiql.Target("dcid"),
    "section_number": _fiql.Target("section_number"),
    "term_id": _fiql.Target("term_dcid"),
    "course_id": _fiql.Target("course_dcid"),
    "staff_id": _fiql.Target("staff_id"),
}
GENERIC_Q = {"id": _fiql.Target("id")}


def one_or_many(items: list[Any]) -> Any:
    """Rule 2: a collection of exactly one element is the element itself."""
    return items[0] if len(items) == 1 else items


def compact(mapping: Row) -> Row:
    """Rule 8: scalar fields without a value are omitted."""
    return {k: v for k, v in mapping.items() if v is not None and v != {}}


def iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


class Numbers:
    """Rule 4: digit-only text without a leading zero is a JSON number (switchable)."""

    def __init__(self, coerce: bool) -> None:
        self.coerce = coerce

    def __call__(self, value: Any) -> Any:
        if (
            self.coerce
            and isinstance(value, str)
            and value.isdigit()
            and (value == "0" or value[0] != "0")
        ):
            return int(value)
        if not self.coerce and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


# ----------------------------------------------------------------------------------- views


def student_view(d: District) -> pl.DataFrame:
    """STUDENTS joined with their extension rows and school DCID, sorted by DCID."""
    schools = d["schools"].select(
        pl.col("school_number").alias("schoolid"), pl.col("dcid").alias("school_dcid")
    )
    ext = d["u_def_ext_students"].rename({"studentsdcid": "dcid"})
    core = d["studentcorefields"].rename({"studentsdcid": "dcid"})
    return (
        d["students"]
        .join(schools, on="schoolid", how="left")
        .join(ext, on="dcid", how="left")
        .join(core, on="dcid", how="left")
        .sort("dcid")
    )


def staff_view(d: District) -> pl.DataFrame:
    """One row per (user, school of an active SchoolStaff row): the v1 staff list of a school."""
    schools = d["schools"].select(
        pl.col("school_number").alias("schoolid"), pl.col("dcid").alias("school_dcid")
    )
    affiliations = (
        d["schoolstaff"]
        .join(schools, on="schoolid", how="left")
        .with_columns(school_dcid=pl.col("school_dcid").fill_null(0))
        .group_by("users_dcid")
        .agg(
            pl.struct(school_id="school_dcid", type="staffstatus", status="status")
            .sort_by("school_dcid")
            .alias("affiliations")
        )
    )
    users = (
        d["users"].rename({"dcid": "users_dcid"}).join(affiliations, on="users_dcid", how="left")
    )
    active = d["schoolstaff"].filter(pl.col("status") == 1).select("users_dcid", "schoolid")
    return active.join(users, on="users_dcid").sort("schoolid", "users_dcid")


def section_view(d: District) -> pl.DataFrame:
    """SECTIONS with the DCIDs v1 exposes (school, course, term, lead teacher's user)."""
    schools = d["schools"].select(
        pl.col("school_number").alias("schoolid"), pl.col("dcid").alias("school_dcid")
    )
    courses = d["courses"].select("course_number", pl.col("dcid").alias("course_dcid"))
    terms = d["terms"].select(
        pl.col("id").alias("termid"),
        "schoolid",
        pl.col("dcid").alias("term_dcid"),
        pl.col("yearid").alias("term_yearid"),
        pl.col("portion").alias("term_portion"),
        pl.col("firstday").alias("term_firstday"),
        pl.col("lastday").alias("term_lastday"),
        pl.col("abbreviation").alias("term_abbreviation"),
        pl.col("name").alias("term_name"),
    )
    staff = d["schoolstaff"].select(
        pl.col("id").alias("teacher"), pl.col("users_dcid").alias("staff_id")
    )
    return (
        d["sections"]
        .join(schools, on="schoolid", how="left")
        .join(courses, on="course_number", how="left")
        .join(terms, on=["termid", "schoolid"], how="left")
        .join(staff, on="teacher", how="left")
        .sort("schoolid", "dcid")
    )


def enrollment_view(d: District) -> pl.DataFrame:
    """CC with the section and student DCIDs v1 exposes; `dropped` from negative IDs."""
    sections = d["sections"].select(
        pl.col("id").alias("abs_section"), pl.col("dcid").alias("section_dcid")
    )
    students = d["students"].select(
        pl.col("id").alias("studentid"), pl.col("dcid").alias("student_dcid")
    )
    return (
        d["cc"]
        .with_columns(abs_section=pl.col("sectionid").abs(), dropped=pl.col("sectionid") < 0)
        .join(sections, on="abs_section", how="left")
        .join(students, on="studentid", how="left")
        .sort("section_dcid", "dcid")
    )


def term_view(d: District) -> pl.DataFrame:
    schools = d["schools"].select(
        pl.col("school_number").alias("schoolid"), pl.col("dcid").alias("school_dcid")
    )
    return (
        d["terms"]
        .join(schools, on="schoolid", how="left")
        .sort("schoolid", "portion", "firstday", "id")
    )


def course_view(d: District) -> pl.DataFrame:
    """Courses per school: those with a section at that school, sorted by course number."""
    used = d["sections"].select("schoolid", "course_number").unique()
    return used.join(d["courses"], on="course_number").sort("schoolid", "course_number")


def school_view(d: District) -> pl.DataFrame:
    """Real schools (the Graduated Students school is not listed), sorted by DCID."""
    return d["schools"].filter(pl.col("school_number") != GRADUATED_SCHOOL).sort("dcid")


# ----------------------------------------------------------------------------------- records


def students_json(
    rows: Iterable[Row],
    expansions: set[str],
    extensions: list[str],
    num: Numbers,
) -> list[Row]:
    """v1 student objects of one page."""
    out = []
    for r in rows:
        status = r["enroll_status"]
        o: Row = compact(
            {
                "id": r["dcid"],
                "local_id": num(str(r["student_number"])),
                "student_username": r["student_web_id"],
                "state_province_id": num(r["state_studentnumber"]),
                "name": compact(
                    {
                        "first_name": r["first_name"],
                        "middle_name": r["middle_name"],
                        "last_name": r["last_name"],
                    }
                ),
            }
        )
        if expansions:
            _student_expansions(o, r, expansions, num, status)
        if extensions:
            o["_extension_data"] = {
                "_table_extension": one_or_many([_extension(name, r) for name in extensions])
            }
        out.append(o)
    return out


def _student_expansions(o: Row, r: Row, ex: set[str], num: Numbers, status: int) -> None:
    if "demographics" in ex:
        o["demographics"] = compact(
            {
                "gender": r["gender"],
                "birth_date": iso(r["dob"]),
                "district_entry_date": iso(r["districtentrydate"]),
                "projected_graduation_year": r["sched_yearofgraduation"],
            }
        )
    if "addresses" in ex:
        o["addresses"] = (
            {
                "physical": compact(
                    {
                        "street": r["street"],
                        "city": r["city"],
                        "state_province": r["state"],
                        "postal_code": num(r["zip"]),
                    }
                )
            }
            if r["street"]
            else ""
        )
    if "alerts" in ex:
        o["alerts"] = ""
    if "phones" in ex:
        o["phones"] = {"main": {"number": r["home_phone"]}} if r["home_phone"] else ""
    if "school_enrollment" in ex:
        o["school_enrollment"] = compact(
            {
                "enroll_status": STATUS_LETTER.get(status, "I"),
                "enroll_status_description": STATUS_TEXT.get(status, "Inactive"),
                "enroll_status_code": status,
                "grade_level": r["grade_level"],
                "entry_date": iso(r["entrydate"]),
                "exit_date": iso(r["exitdate"]),
                "school_number": num(str(r["schoolid"])),
                "school_id": r["school_dcid"],
                "entry_code": num(r["entrycode"]),
                "full_time_equivalency": {"fteid": 1, "name": "Full Time"},
            }
        )
    if "ethnicity_race" in ex:
        o["ethnicity_race"] = {"federal_ethnicity": "YES" if r["fedethnicity"] else "NO"}
    if "contact" in ex:
        o["contact"] = (
            compact(
                {
                    "emergency_contact_name1": r.get("emerg_contact_1"),
                    "emergency_phone1": r.get("emerg_phone_1"),
                    "emergency_contact_name2": r.get("emerg_contact_2"),
                    "emergency_phone2": r.get("emerg_phone_2"),
                    "guardian_email": r.get("guardianemail"),
                    "mother": r.get("mother"),
                    "father": r.get("father"),
                }
            )
            or ""
        )
    if "contact_info" in ex:
        o["contact_info"] = {"email": r["school_email"]} if r.get("school_email") else ""
    if "initial_enrollment" in ex:
        o["initial_enrollment"] = compact(
            {
                "district_entry_date": iso(r["districtentrydate"]),
                "school_entry_date": iso(r["entrydate"]),
            }
        )
    if "schedule_setup" in ex:
        o["schedule_setup"] = compact(
            {
                "home_room": r["home_room"],
                "sched_next_year_grade": (r["grade_level"] + 1) if r["grade_level"] < 12 else None,
            }
        )
    if "fees" in ex:
        o["fees"] = ""
    if "lunch" in ex:
        o["lunch"] = {
            "balance_1": "0.00",
            "balance_2": "0.00",
            "balance_3": "0.00",
            "balance_4": "0.00",
            "lunch_id": r["lunch_id"],
        }


def _extension(name: str, r: Row) -> Row:
    _table, fields = EXTENSION_TABLES[name]
    values = [{"name": f, "type": "String", "value": r[f]} for f in fields if r.get(f) is not None]
    out: Row = {"name": name, "recordFound": bool(values)}
    if values:
        out["_field"] = one_or_many(values)
    return out


def staff_json(rows: Iterable[Row], ex: set[str], num: Numbers) -> list[Row]:
    out = []
    for r in rows:
        o = compact(
            {
                "id": r["users_dcid"],
                "local_id": num(r["teachernumber"]),
                "admin_username": r["loginid"],
                "teacher_username": r["teacherloginid"],
                "name": compact(
                    {
                        "first_name": r["first_name"],
                        "middle_name": r["middle_name"],
                        "last_name": r["last_name"],
                    }
                ),
                "users_dcid": r["users_dcid"],
            }
        )
        if "emails" in ex:
            o["emails"] = {"work_email": r["email_addr"]} if r["email_addr"] else ""
        if "phones" in ex:
            o["phones"] = {"home_phone": num(r["home_phone"])} if r["home_phone"] else ""
        if "addresses" in ex:
            o["addresses"] = ""
        if "school_affiliations" in ex:
            o["school_affiliations"] = {
                "school_affiliation": one_or_many([dict(a) for a in r["affiliations"] or []])
            }
        out.append(o)
    return out


def school_json(r: Row, ex: set[str], num: Numbers) -> Row:
    o = compact(
        {
            "id": r["dcid"],
            "name": r["name"],
            "school_number": num(str(r["school_number"])),
            "state_province_id": num(r["state_province_id"]),
            "low_grade": r["low_grade"],
            "high_grade": r["high_grade"],
            "alternate_school_number": num(str(r["alternate_school_number"])),
            "addresses": {
                "physical": compact(
                    {
                        "street": r["schooladdress"],
                        "city": r["schoolcity"],
                        "state_province": r["schoolstate"],
                        "postal_code": num(r["schoolzip"]),
                    }
                )
            }
            if r["schooladdress"]
            else None,
            "phones": {"main": {"number": r["schoolphone"]}} if r["schoolphone"] else None,
            "principal": compact(
                {
                    "name": compact(
                        {"first_name": r["principal_first"], "last_name": r["principal_last"]}
                    ),
                    "email": r["principalemail"],
                }
            )
            if r["principal_last"]
            else None,
        }
    )
    for name in ex & set(SCHOOL_EXPANSIONS):
        o[name] = ""
    return o


def term_json(r: Row, num: Numbers, *, prefix: str = "", school_dcid: Any = None) -> Row:
    p = prefix
    return {
        "id": r[f"{p}dcid"] if not p else r["term_dcid"],
        "school_id": school_dcid if school_dcid is not None else r["school_dcid"],
        "start_year": r[f"{p}yearid"] + 1990,
        "portion": r[f"{p}portion"],
        "start_date": iso(r[f"{p}firstday"]),
        "end_date": iso(r[f"{p}lastday"]),
        "abbreviation": r[f"{p}abbreviation"],
        "name": r[f"{p}name"],
    }


def section_json(rows: Iterable[Row], ex: set[str], num: Numbers) -> list[Row]:
    out = []
    for r in rows:
        o = compact(
            {
                "id": r["dcid"],
                "school_id": r["school_dcid"],
                "course_id": r["course_dcid"],
                "term_id": r["term_dcid"],
                "section_number": num(r["section_number"]),
                "expression": r["expression"],
                "external_expression": r["expression"],
                "staff_id": r["staff_id"],
                "gradebooktype": 2,
            }
        )
        if "term" in ex:
            o["term"] = (
                term_json(r, num, prefix="term_", school_dcid=r["school_dcid"])
                if (r["term_dcid"] is not None)
                else ""
            )
        out.append(o)
    return out


def course_json(rows: Iterable[Row], num: Numbers) -> list[Row]:
    return [
        {"id": r["dcid"], "course_number": num(r["course_number"]), "course_name": r["course_name"]}
        for r in rows
    ]


def enrollment_json(rows: Iterable[Row], num: Numbers) -> list[Row]:
    return [
        compact(
            {
                "id": r["dcid"],
                "section_id": r["section_dcid"],
                "student_id": r["student_dcid"],
                "entry_date": iso(r["dateenrolled"]),
                "exit_date": iso(r["dateleft"]),
                "dropped": bool(r["dropped"]),
            }
        )
        for r in rows
    ]


Builder = Callable[[list[Row], set[str], list[str], Numbers], list[Row]]
