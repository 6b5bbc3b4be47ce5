"""Assembling one extraction's flat frames into the canonical roster.

The joins that need several PowerSchool reads at once live here: first and last instructional
days (CALENDAR_DAY inside the school year), co-teachers (SectionTeacher → SECTIONS, SchoolStaff,
RoleDef), contacts (Contacts module or legacy fields) and custom fields onto their records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from rostersync.connectors.powerschool import _contacts as mc
from rostersync.connectors.powerschool import _tables as tables
from rostersync.connectors.powerschool import mapping as m
from rostersync.connectors.powerschool._json import JSONDict, as_dict, text

if TYPE_CHECKING:
    from rostersync.connectors.powerschool.connector import ExtractPlan


@dataclass(frozen=True)
class ExtractedFrames:
    """The flat frames one extraction read, before they become canonical tables."""

    district: JSONDict
    schools: pl.DataFrame
    terms: pl.DataFrame
    courses: pl.DataFrame
    sections: pl.DataFrame
    cc: pl.DataFrame
    staff: pl.DataFrame
    students: pl.DataFrame
    calendar: pl.DataFrame
    co_tables: Mapping[str, pl.DataFrame] = field(default_factory=dict)
    contact_tables: Mapping[str, pl.DataFrame] = field(default_factory=dict)
    custom: Sequence[tables.CustomRead] = ()
    custom_tables: Mapping[str, pl.DataFrame] = field(default_factory=dict)


def build_roster(plan: ExtractPlan, x: ExtractedFrames) -> dict[str, pl.DataFrame]:
    """Canonical tables from the flat frames of one extraction."""
    src = plan.source
    district, schools, terms, courses = x.district, x.schools, x.terms, x.courses
    sections, cc, staff, students = x.sections, x.cc, x.staff, x.students
    calendar, co_tables, contact_tables = x.calendar, x.co_tables, x.contact_tables
    custom, custom_tables = x.custom, x.custom_tables
    info = as_dict(district)
    name = text(info.get("name")) or "District"
    orgs = m.build_orgs(
        src, name, schools, text(info.get("district_number")) or text(info.get("uuid"))
    )
    instructional = instructional_days(calendar, schools, terms)
    sessions = m.build_sessions(src, terms, instructional)
    course_rows = m.build_courses(src, courses, sections)
    classes = m.build_classes(src, sections, courses)
    student_users, demographics = m.build_students(src, students)
    staff_users, staff_map = m.build_staff(src, staff)
    enrollments = [m.build_student_enrollments(src, cc, sections)]
    co = None
    if plan.sync_co_teachers:
        co = co_teachers(co_tables, staff_map)
    enrollments.append(m.build_teacher_enrollments(src, sections, staff_map, co))
    if plan.contact_module:
        contacts, links = mc.build_module_contacts(src, contact_tables, student_users)
    else:
        contacts, links = mc.build_legacy_contacts(src, students)
    student_users = mc.attach_agents(student_users, links)
    # Custom fields of each entity type go onto that type's rows only.
    frames: dict[str, pl.DataFrame] = {
        "student": student_users,
        "staff": staff_users,
        "class": classes,
        "course": course_rows,
    }
    target = {"student": "student", "teacher": "staff", "admin": "staff"}
    prefixes = {"student": "student-", "teacher": "staff-", "admin": "staff-"}
    for read in custom:
        values = custom_tables[read.table].rename({read.key: "key"})
        name = target.get(read.entity_type, read.entity_type)
        frames[name] = m.attach_custom(
            frames[name], values, prefixes.get(read.entity_type, ""), read.fields
        )
    return m.assemble(
        {
            "orgs": [orgs],
            "academicSessions": [sessions],
            "courses": [frames["course"]],
            "classes": [frames["class"]],
            "users": [frames["student"], frames["staff"], contacts],
            "enrollments": enrollments,
            "demographics": [demographics],
            "userContacts": [links],
        }
    )


def instructional_days(
    calendar: pl.DataFrame, schools: pl.DataFrame, terms: pl.DataFrame
) -> pl.DataFrame:
    """First and last in-session CALENDAR_DAY of each school inside its school year."""
    years = terms.filter(pl.col("portion") == "1").select(
        "school_dcid",
        pl.col("start_date").str.to_date(strict=False).alias("_first"),
        pl.col("end_date").str.to_date(strict=False).alias("_last"),
    )
    days = (
        calendar.join(
            schools.select("school_dcid", "school_number"),
            left_on="schoolid",
            right_on="school_number",
            how="inner",
        )
        .with_columns(pl.col("date_value").str.to_date(strict=False).alias("_d"))
        .join(years, on="school_dcid", how="inner")
        .filter((pl.col("_d") >= pl.col("_first")) & (pl.col("_d") <= pl.col("_last")))
    )
    return days.group_by("school_dcid").agg(
        pl.col("_d").min().cast(pl.Utf8).alias("first_instructional_day"),
        pl.col("_d").max().cast(pl.Utf8).alias("last_instructional_day"),
    )


def co_teachers(t: Mapping[str, pl.DataFrame], staff_map: pl.DataFrame) -> pl.DataFrame:
    """SectionTeacher rows as (section_dcid, userSourcedId, role_name, is_lead, dates).

    SectionTeacher points with internal IDs: SectionID → SECTIONS.ID, TeacherID →
    SchoolStaff.ID → Users DCID; RoleDef gives the role (lead when its key/name says so).
    """
    sections = t["sections"].rename({"id": "sectionid", "dcid": "section_dcid"})
    staff = (
        t["schoolstaff"]
        .rename({"id": "teacherid"})
        .with_columns(m.staff_ids(pl.col("users_dcid")).alias("userSourcedId"))
    )
    known = staff_map.select("userSourcedId").unique()
    roles = t["roledef"].rename({"id": "roleid", "name": "role_name"})
    role_text = pl.concat_str(
        pl.col("rolekey").fill_null(""), pl.lit(" "), pl.col("role_name").fill_null("")
    ).str.to_lowercase()
    return (
        t["sectionteacher"]
        .join(sections, on="sectionid", how="inner")
        .join(staff.select("teacherid", "userSourcedId"), on="teacherid", how="inner")
        .join(known, on="userSourcedId", how="inner")
        .join(roles, on="roleid", how="left")
        .with_columns(
            role_text.str.contains("lead").alias("is_lead"),
            pl.col("priorityorder").cast(pl.Int64, strict=False).alias("_prio"),
        )
        .sort(["section_dcid", "_prio"], nulls_last=True)
        .select(
            "section_dcid",
            "userSourcedId",
            pl.col("role_name"),
            "is_lead",
            "start_date",
            "end_date",
        )
    )
