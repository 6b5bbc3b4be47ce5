"""PowerSchool → canonical model: the one place that knows how PowerSchool shapes map to OneRoster.

Two steps, both here:

1. **Page converters** (``*_page``) turn one page of API records into a small flat Polars frame of
   text columns, right as the page arrives, so raw JSON never piles up in memory. They read each
   record through :mod:`._json`, so every serialisation quirk is handled once.
2. **Builders** (``build_*``) turn the concatenated flat frames into canonical tables with Polars
   expressions and joins (no per-record loops).

Identifiers. The v1 API's ``id`` is a DCID and so are the IDs it uses to point at other records
(``section.course_id``, ``term_id``, ``staff_id``, ``school_id``); raw tables point with the
internal ``ID`` (``SectionTeacher.SectionID`` → ``SECTIONS.ID``), and ``SchoolID`` columns hold
school *numbers*. Every record keeps its raw PowerSchool key in ``sourceId``. ``users`` holds
people from three PowerSchool ID spaces (students, staff, contacts), so their sourcedIds carry a
kind prefix that keeps them from colliding: ``student-<STUDENTS.DCID>``, ``staff-<USERS.DCID>``,
``contact-<PERSON.ID>`` (Contacts module) or ``contact-<student DCID>-<slot>`` (legacy fields).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl

from rostersync.connectors.powerschool._json import (
    JSONDict,
    as_dict,
    as_list,
    dig,
    flag,
    text,
)
from rostersync.model import ENROLL_STATUS_KEY, ENTITIES, Roster, conform, empty_roster

Getter = Callable[[JSONDict], Any]
Spec = Mapping[str, Getter]

DISTRICT_ID = "district"
GRADUATED_SCHOOL_NUMBER = "999999"

#: PowerSchool TERMS.Portion (how many such terms fill the year) → OneRoster academicSession
#: type: the year, its semesters, trimesters as terms; quarters and anything finer are the
#: reporting terms grades are given for, OneRoster's grading periods.
PORTION_TYPES = {"1": "schoolYear", "2": "semester", "3": "term"}
GRADING_PERIOD = "gradingPeriod"

#: Legacy contact slots of the v1 ``contact`` expansion: (slot, name key, phone key, relation).
LEGACY_CONTACT_SLOTS: tuple[tuple[str, str, str | None, str], ...] = (
    ("mother", "mother", None, "Mother"),
    ("father", "father", None, "Father"),
    ("emergency1", "emergency_contact_name1", "emergency_phone1", "Emergency Contact"),
    ("emergency2", "emergency_contact_name2", "emergency_phone2", "Emergency Contact"),
)


def _t(*path: str) -> Getter:
    return lambda rec: text(dig(rec, *path))


def convert_page(records: Sequence[JSONDict], spec: Spec, **constants: str | None) -> pl.DataFrame:
    """One page of records → a flat frame of text columns (plus constant columns)."""
    columns: dict[str, list[Any]] = {name: [get(r) for r in records] for name, get in spec.items()}
    frame = pl.DataFrame(columns, schema=dict.fromkeys(spec, pl.Utf8()))
    if constants:
        frame = frame.with_columns(
            [pl.lit(v, dtype=pl.Utf8()).alias(k) for k, v in constants.items()]
        )
    return frame


def concat(frames: Sequence[pl.DataFrame], spec: Spec, *extra: str) -> pl.DataFrame:
    """Pages → one frame; an empty list gives an empty frame with the spec's columns."""
    if frames:
        return pl.concat(frames, how="diagonal_relaxed")
    return pl.DataFrame(schema=dict.fromkeys([*spec, *extra], pl.Utf8()))


# ---------------------------------------------------------------------------- page specs (v1)

SCHOOL_SPEC: Spec = {
    "school_dcid": _t("id"),
    "school_number": _t("school_number"),
    "name": _t("name"),
    "low_grade": _t("low_grade"),
    "high_grade": _t("high_grade"),
    "state_province_id": _t("state_province_id"),
}

TERM_SPEC: Spec = {
    "term_dcid": _t("id"),
    "school_dcid": _t("school_id"),
    "start_year": _t("start_year"),
    "portion": _t("portion"),
    "start_date": _t("start_date"),
    "end_date": _t("end_date"),
    "abbreviation": _t("abbreviation"),
    "name": _t("name"),
}

COURSE_SPEC: Spec = {
    "course_dcid": _t("id"),
    "course_number": _t("course_number"),
    "course_name": _t("course_name"),
}

SECTION_SPEC: Spec = {
    "section_dcid": _t("id"),
    "school_dcid": _t("school_id"),
    "course_dcid": _t("course_id"),
    "term_dcid": _t("term_id"),
    "section_number": _t("section_number"),
    "expression": _t("expression"),
    "staff_id": _t("staff_id"),
}

ENROLLMENT_SPEC: Spec = {
    "cc_dcid": _t("id"),
    "section_dcid": _t("section_id"),
    "student_dcid": _t("student_id"),
    "entry_date": _t("entry_date"),
    "exit_date": _t("exit_date"),
    "dropped": lambda r: text(flag(r.get("dropped"))),
}


def _affiliation(rec: JSONDict, wanted: Callable[[str | None, str | None], bool]) -> str:
    for aff in as_list(dig(rec, "school_affiliations", "school_affiliation")):
        a = as_dict(aff)
        if wanted(text(a.get("type")), text(a.get("status"))):
            return "true"
    return "false"


STAFF_SPEC: Spec = {
    "staff_id": _t("id"),
    "users_dcid": _t("users_dcid"),
    "local_id": _t("local_id"),
    "admin_username": _t("admin_username"),
    "teacher_username": _t("teacher_username"),
    "first_name": _t("name", "first_name"),
    "middle_name": _t("name", "middle_name"),
    "last_name": _t("name", "last_name"),
    "email": _t("emails", "work_email"),
    "phone": _t("phones", "home_phone"),
    # SchoolStaff.StaffStatus 1 Teacher / 4 Substitute teach; 2 Staff is office staff.
    "teaches": lambda r: _affiliation(r, lambda t, s: t in ("1", "4") and s in (None, "1")),
    "office": lambda r: _affiliation(r, lambda t, s: t == "2" and s in (None, "1")),
}


def _races(rec: JSONDict) -> str | None:
    races = [
        text(as_dict(r).get("district_race_code") or as_dict(r).get("race") or r)
        for r in as_list(dig(rec, "ethnicity_race", "races"))
    ]
    kept = [r for r in races if r]
    return ",".join(kept) if kept else None


def _main_phone(rec: JSONDict) -> str | None:
    phones = as_dict(rec.get("phones"))
    for key in ("main", "home_phone", "home"):
        value = phones.get(key)
        found = text(as_dict(value).get("number")) if isinstance(value, dict) else text(value)
        if found:
            return found
    return None


STUDENT_SPEC: Spec = {
    "student_dcid": _t("id"),
    "local_id": _t("local_id"),
    "state_province_id": _t("state_province_id"),
    "username": _t("student_username"),
    "first_name": _t("name", "first_name"),
    "middle_name": _t("name", "middle_name"),
    "last_name": _t("name", "last_name"),
    "grade_level": _t("school_enrollment", "grade_level"),
    "enroll_status": _t("school_enrollment", "enroll_status"),
    "entry_date": _t("school_enrollment", "entry_date"),
    "exit_date": _t("school_enrollment", "exit_date"),
    "enroll_school_dcid": _t("school_enrollment", "school_id"),
    "email": _t("contact_info", "email"),
    "phone": _main_phone,
    "gender": _t("demographics", "gender"),
    "birth_date": _t("demographics", "birth_date"),
    "projected_graduation_year": _t("demographics", "projected_graduation_year"),
    "federal_ethnicity": _t("ethnicity_race", "federal_ethnicity"),
    "races": _races,
    "street": _t("addresses", "physical", "street"),
    "city": _t("addresses", "physical", "city"),
    "state": _t("addresses", "physical", "state_province"),
    "postal_code": _t("addresses", "physical", "postal_code"),
    "guardian_email": _t("contact", "guardian_email"),
    **{f"c_{slot}_name": _t("contact", key) for slot, key, _, _ in LEGACY_CONTACT_SLOTS},
    **{
        f"c_{slot}_phone": _t("contact", phone)
        for slot, _, phone, _ in LEGACY_CONTACT_SLOTS
        if phone is not None
    },
}


def student_page(records: Sequence[JSONDict], school_dcid: str) -> pl.DataFrame:
    """A page of v1 students of one school."""
    return convert_page(records, STUDENT_SPEC, school_dcid=school_dcid)


def table_page(records: Sequence[JSONDict], columns: Sequence[str]) -> pl.DataFrame:
    """A page of schema-table rows (all text, ``""`` = null) restricted to ``columns``."""
    data = {c: [text(r.get(c)) for r in records] for c in columns}
    return pl.DataFrame(data, schema=dict.fromkeys(columns, pl.Utf8()))


# ---------------------------------------------------------------------------- builders


META = "m:"


def meta(**values: pl.Expr) -> list[pl.Expr]:
    """Metadata entries as ``m:<key>`` columns; :func:`pack_metadata` turns them into JSON."""
    return [expr.alias(META + key) for key, expr in values.items()]


def pack_metadata(frame: pl.DataFrame) -> pl.DataFrame:
    """Fold the ``m:<key>`` columns into the ``metadata`` JSON text (keys sorted, as
    :func:`rostersync.model.metadata_json` writes them)."""
    keys = sorted(c for c in frame.columns if c.startswith(META))
    if not keys:
        return frame
    packed = pl.struct([pl.col(k).alias(k[len(META) :]) for k in keys]).struct.json_encode()
    return frame.with_columns(packed.alias("metadata")).drop(keys)


def _common(source: str, sourced_id: pl.Expr, source_id: pl.Expr) -> list[pl.Expr]:
    return [
        sourced_id.alias("sourcedId"),
        pl.lit("active").alias("status"),
        pl.lit(source).alias("source"),
        source_id.alias("sourceId"),
    ]


def grade_code(expr: pl.Expr) -> pl.Expr:
    """PowerSchool grade level (-2…12, 99) → CEDS code (PK, KG, 01…12, Other)."""
    g = expr.cast(pl.Int64, strict=False)
    return (
        pl.when(g < 0)
        .then(pl.lit("PK"))
        .when(g == 0)
        .then(pl.lit("KG"))
        .when(g <= 13)
        .then(g.cast(pl.Utf8).str.zfill(2))
        .when(g.is_not_null())
        .then(pl.lit("Other"))
    )


def _date(col: str) -> pl.Expr:
    return pl.col(col).str.to_date("%Y-%m-%d", strict=False)


def build_orgs(
    source: str,
    district_name: str,
    schools: pl.DataFrame,
    district_identifier: str | None = None,
) -> pl.DataFrame:
    """The district org and one org per school.

    The district's ``identifier`` is PowerSchool's district number (else the stable
    ``district`` id), as every school's is its school number.
    """
    district = pl.DataFrame(
        {
            "sourcedId": [DISTRICT_ID],
            "status": ["active"],
            "source": [source],
            "sourceId": [DISTRICT_ID],
            "name": [district_name],
            "type": ["district"],
            "identifier": [district_identifier or DISTRICT_ID],
        }
    )
    school_rows = schools.select(
        *_common(source, pl.col("school_dcid"), pl.col("school_dcid")),
        pl.col("name"),
        pl.lit("school").alias("type"),
        pl.col("school_number").alias("identifier"),
        pl.lit(DISTRICT_ID).alias("parentSourcedId"),
        *meta(
            schoolNumber=pl.col("school_number"),
            stateId=pl.col("state_province_id"),
            lowGrade=pl.col("low_grade"),
            highGrade=pl.col("high_grade"),
        ),
    )
    return pl.concat([district, school_rows], how="diagonal_relaxed")


def build_sessions(
    source: str, terms: pl.DataFrame, instructional: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Terms → academicSessions: school years, semesters, terms and grading periods.

    A term's type comes from its portion (:data:`PORTION_TYPES`; quarters and finer are
    ``gradingPeriod``). Its parent is the innermost term of the same school year that
    contains it (a quarter's semester, a semester's year), else the school year.
    ``instructional`` (school_dcid, first, last) adds the first and last instructional days
    (CALENDAR_DAY in session) to each school year's metadata.
    """
    t = terms.with_columns(
        _date("start_date").alias("_start"),
        _date("end_date").alias("_end"),
        pl.col("start_year").cast(pl.Int64, strict=False).alias("_year"),
        pl.col("portion").cast(pl.Int64, strict=False).alias("_portion"),
    )
    years = t.filter(pl.col("portion") == "1").select(
        pl.col("school_dcid"), pl.col("_year"), pl.col("term_dcid").alias("_year_dcid")
    )
    outer = t.filter(pl.col("_portion") > 1).select(
        pl.col("school_dcid"),
        pl.col("_year"),
        pl.col("term_dcid").alias("_outer_dcid"),
        pl.col("_portion").alias("_outer_portion"),
        pl.col("_start").alias("_outer_start"),
        pl.col("_end").alias("_outer_end"),
    )
    t = t.join(years, on=["school_dcid", "_year"], how="left")
    # The innermost enclosing term: a coarser portion (fewer, longer terms) whose dates
    # contain this one's; the finest such one wins.
    enclosing = (
        t.filter(pl.col("_portion") > 2)
        .join(outer, on=["school_dcid", "_year"], how="inner")
        .filter(
            (pl.col("_outer_portion") < pl.col("_portion"))
            & (pl.col("_outer_start") <= pl.col("_start"))
            & (pl.col("_outer_end") >= pl.col("_end"))
        )
        .sort(["term_dcid", "_outer_portion", "_outer_dcid"], descending=[False, True, False])
        .group_by("term_dcid", maintain_order=True)
        .agg(pl.col("_outer_dcid").first())
    )
    t = t.join(enclosing, on="term_dcid", how="left")
    first = pl.lit(None, dtype=pl.Utf8)
    last = pl.lit(None, dtype=pl.Utf8)
    if instructional is not None and instructional.height:
        t = t.join(instructional, on="school_dcid", how="left")
        is_year = pl.col("portion") == "1"
        first = pl.when(is_year).then(pl.col("first_instructional_day"))
        last = pl.when(is_year).then(pl.col("last_instructional_day"))
    return t.select(
        *_common(source, pl.col("term_dcid"), pl.col("term_dcid")),
        pl.col("name").fill_null(pl.col("abbreviation")).alias("title"),
        pl.when(pl.col("_portion") >= 4)
        .then(pl.lit(GRADING_PERIOD))
        .otherwise(pl.col("portion").replace_strict(PORTION_TYPES, default="term"))
        .alias("type"),
        pl.col("_start").alias("startDate"),
        pl.col("_end").alias("endDate"),
        pl.when(pl.col("portion") == "1")
        .then(pl.lit(None, dtype=pl.Utf8))
        .otherwise(pl.coalesce(pl.col("_outer_dcid"), pl.col("_year_dcid")))
        .alias("parentSourcedId"),
        (pl.col("_year") + 1).cast(pl.Utf8).alias("schoolYear"),
        pl.col("school_dcid").alias("orgSourcedId"),
        *meta(
            portion=pl.col("portion"),
            abbreviation=pl.col("abbreviation"),
            firstInstructionalDay=first,
            lastInstructionalDay=last,
        ),
    )


def build_courses(
    source: str, courses: pl.DataFrame, sections: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Courses (district-wide in PowerSchool, listed per school by v1).

    A course's schools are those of its sections (PowerSchool ties a course to a school
    through the sections taught there), else those that list it. A course of one school
    belongs to that school's org; one of several belongs to the district org, and its
    metadata ``schools`` lists them (sorted) either way.
    """
    listed = courses.select("course_dcid", "school_dcid")
    if sections is not None and sections.height:
        taught = sections.select("course_dcid", "school_dcid").drop_nulls()
        listed = pl.concat(
            [taught, listed.join(taught.select("course_dcid"), on="course_dcid", how="anti")]
        )
    schools = listed.unique().group_by("course_dcid").agg(pl.col("school_dcid").sort())
    grouped = (
        courses.group_by("course_dcid", maintain_order=True)
        .agg(pl.col("course_number").first(), pl.col("course_name").first())
        .join(schools.rename({"school_dcid": "_schools"}), on="course_dcid", how="left")
    )
    return grouped.select(
        *_common(source, pl.col("course_dcid"), pl.col("course_dcid")),
        pl.col("course_name").fill_null(pl.col("course_number")).alias("title"),
        pl.col("course_number").alias("courseCode"),
        pl.when(pl.col("_schools").list.len() == 1)
        .then(pl.col("_schools").list.first())
        .otherwise(pl.lit(DISTRICT_ID))
        .alias("orgSourcedId"),
        *meta(schools=pl.col("_schools")),
    )


def build_classes(source: str, sections: pl.DataFrame, courses: pl.DataFrame) -> pl.DataFrame:
    """Sections → classes, titled after their course."""
    names = courses.group_by("course_dcid").agg(
        pl.col("course_name").first(), pl.col("course_number").first()
    )
    s = sections.join(names, on="course_dcid", how="left")
    out = s.select(
        *_common(source, pl.col("section_dcid"), pl.col("section_dcid")),
        pl.concat_str(
            pl.coalesce(pl.col("course_name"), pl.col("course_number"), pl.lit("Section")),
            pl.lit(" - "),
            pl.col("section_number").fill_null(pl.col("section_dcid")),
        ).alias("title"),
        pl.col("course_dcid").alias("courseSourcedId"),
        pl.col("section_number").alias("classCode"),
        pl.lit("scheduled").alias("classType"),
        pl.col("school_dcid").alias("schoolSourcedId"),
        pl.concat_list(pl.col("term_dcid")).alias("termSourcedIds"),
        pl.when(pl.col("expression").is_not_null())
        .then(pl.concat_list(pl.col("expression")))
        .alias("periods"),
    )
    return conform("classes", out)


def student_ids(expr: pl.Expr) -> pl.Expr:
    return pl.lit("student-") + expr


def staff_ids(expr: pl.Expr) -> pl.Expr:
    return pl.lit("staff-") + expr


def build_students(source: str, students: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Students → (users rows, demographics rows)."""
    s = students.unique("student_dcid", keep="first", maintain_order=True)
    meta_fields = meta(
        stateId=pl.col("state_province_id"),
        **{ENROLL_STATUS_KEY: pl.col("enroll_status")},
        entryDate=pl.col("entry_date"),
        exitDate=pl.col("exit_date"),
        projectedGraduationYear=pl.col("projected_graduation_year"),
        street=pl.col("street"),
        city=pl.col("city"),
        state=pl.col("state"),
        postalCode=pl.col("postal_code"),
        guardianEmail=pl.col("guardian_email"),
    )
    users = s.select(
        *_common(source, student_ids(pl.col("student_dcid")), pl.col("student_dcid")),
        pl.lit(True).alias("enabledUser"),
        pl.col("username"),
        pl.when(pl.col("state_province_id").is_not_null())
        .then(pl.concat_list(pl.lit("stateId:") + pl.col("state_province_id")))
        .alias("userIds"),
        pl.col("first_name").alias("givenName"),
        pl.col("last_name").alias("familyName"),
        pl.col("middle_name").alias("middleName"),
        pl.lit("student").alias("role"),
        pl.concat_list(pl.col("school_dcid")).alias("orgSourcedIds"),
        pl.col("school_dcid").alias("primaryOrgSourcedId"),
        pl.col("local_id").alias("identifier"),
        pl.col("email"),
        pl.col("phone"),
        pl.when(pl.col("grade_level").is_not_null())
        .then(pl.concat_list(grade_code(pl.col("grade_level"))))
        .alias("grades"),
        _date("birth_date").alias("birthDate"),
        *meta_fields,
    )
    races = pl.col("races").fill_null("").str.split(",")
    demographics = s.select(
        *_common(source, student_ids(pl.col("student_dcid")), pl.col("student_dcid")),
        _date("birth_date").alias("birthDate"),
        pl.col("gender")
        .str.to_uppercase()
        .replace_strict({"M": "male", "F": "female"}, default="unspecified")
        .alias("sex"),
        races.list.contains("I").alias("americanIndianOrAlaskaNative"),
        races.list.contains("A").alias("asian"),
        races.list.contains("B").alias("blackOrAfricanAmerican"),
        races.list.contains("P").alias("nativeHawaiianOrOtherPacificIslander"),
        races.list.contains("W").alias("white"),
        (races.list.eval(pl.element().filter(pl.element() != "")).list.len() > 1).alias(
            "demographicRaceTwoOrMoreRaces"
        ),
        pl.col("federal_ethnicity")
        .str.to_lowercase()
        .replace_strict(
            {
                "1": True,
                "yes": True,
                "y": True,
                "true": True,
                "0": False,
                "no": False,
                "n": False,
                "false": False,
            },
            default=None,
            return_dtype=pl.Boolean,
        )
        .alias("hispanicOrLatinoEthnicity"),
    )
    return users, demographics


def build_staff(source: str, staff: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Staff rows of every school → (users: teachers and administrators, staff_id → sourcedId).

    A person (USERS.DCID) listed at several schools is one user whose orgs are those schools.
    Teacher if they teach (StaffStatus 1 or 4) at any school, else administrator if office staff
    or holding an admin-portal login; other staff (lunch staff…) are not rostered.
    """
    person = pl.coalesce(pl.col("users_dcid"), pl.col("staff_id"))
    s = staff.with_columns(person.alias("_person"))
    grouped = s.group_by("_person", maintain_order=True).agg(
        pl.col("local_id").drop_nulls().first(),
        pl.col("admin_username").drop_nulls().first(),
        pl.col("teacher_username").drop_nulls().first(),
        pl.col("first_name").drop_nulls().first(),
        pl.col("middle_name").drop_nulls().first(),
        pl.col("last_name").drop_nulls().first(),
        pl.col("email").drop_nulls().first(),
        pl.col("phone").drop_nulls().first(),
        (pl.col("teaches") == "true").any().alias("_teaches"),
        ((pl.col("office") == "true") | pl.col("admin_username").is_not_null())
        .any()
        .alias("_office"),
        pl.col("school_dcid").unique(maintain_order=True).alias("_schools"),
        pl.col("staff_id").unique(maintain_order=True).alias("_staff_ids"),
    )
    role = (
        pl.when(pl.col("_teaches"))
        .then(pl.lit("teacher"))
        .when(pl.col("_office"))
        .then(pl.lit("administrator"))
    )
    users = (
        grouped.with_columns(role.alias("role"))
        .filter(pl.col("role").is_not_null())
        .select(
            *_common(source, staff_ids(pl.col("_person")), pl.col("_person")),
            pl.lit(True).alias("enabledUser"),
            pl.coalesce(
                pl.when(pl.col("role") == "teacher").then(pl.col("teacher_username")),
                pl.col("admin_username"),
                pl.col("teacher_username"),
                pl.col("email"),
            ).alias("username"),
            pl.col("first_name").alias("givenName"),
            pl.col("last_name").alias("familyName"),
            pl.col("middle_name").alias("middleName"),
            pl.col("role"),
            pl.col("_schools").alias("orgSourcedIds"),
            pl.col("_schools").list.first().alias("primaryOrgSourcedId"),
            pl.col("local_id").alias("identifier"),
            pl.col("email"),
            pl.col("phone"),
            *meta(
                adminUsername=pl.col("admin_username"),
                teacherUsername=pl.col("teacher_username"),
            ),
        )
    )
    ids = (
        grouped.select(pl.col("_person"), pl.col("_staff_ids"))
        .explode("_staff_ids")
        .select(
            pl.col("_staff_ids").alias("staff_id"),
            staff_ids(pl.col("_person")).alias("userSourcedId"),
        )
        .unique("staff_id")
    )
    return users, ids


def build_student_enrollments(
    source: str, cc: pl.DataFrame, sections: pl.DataFrame
) -> pl.DataFrame:
    """Section enrollments (CC) of students; dropped ones are left out."""
    schools = sections.select("section_dcid", "school_dcid").unique("section_dcid")
    e = cc.filter(pl.col("dropped").fill_null("false") != "true").join(
        schools, on="section_dcid", how="inner"
    )
    return e.select(
        *_common(source, pl.col("cc_dcid"), pl.col("cc_dcid")),
        pl.col("section_dcid").alias("classSourcedId"),
        pl.col("school_dcid").alias("schoolSourcedId"),
        student_ids(pl.col("student_dcid")).alias("userSourcedId"),
        pl.lit("student").alias("role"),
        _date("entry_date").alias("beginDate"),
        _date("exit_date").alias("endDate"),
    )


def build_teacher_enrollments(
    source: str,
    sections: pl.DataFrame,
    staff_map: pl.DataFrame,
    co_teachers: pl.DataFrame | None,
) -> pl.DataFrame:
    """Teachers of classes: the lead teacher of every section, plus co-teachers when given.

    ``co_teachers`` (section_dcid, userSourcedId, role_name, is_lead, start_date, end_date) comes
    from SectionTeacher + RoleDef; when given it is the whole truth (leads included).
    """
    if co_teachers is None:
        t = (
            sections.filter(pl.col("staff_id").is_not_null())
            .join(staff_map, on="staff_id", how="inner")
            .select(
                "section_dcid",
                "school_dcid",
                "userSourcedId",
                pl.lit(True).alias("primary"),
                pl.lit("Lead Teacher").alias("teacherRole"),
                pl.lit(None, dtype=pl.Utf8).alias("start_date"),
                pl.lit(None, dtype=pl.Utf8).alias("end_date"),
            )
        )
    else:
        schools = sections.select("section_dcid", "school_dcid").unique("section_dcid")
        t = co_teachers.join(schools, on="section_dcid", how="inner").select(
            "section_dcid",
            "school_dcid",
            "userSourcedId",
            pl.col("is_lead").alias("primary"),
            pl.col("role_name").alias("teacherRole"),
            "start_date",
            "end_date",
        )
    t = t.unique(["section_dcid", "userSourcedId"], keep="first", maintain_order=True)
    key = pl.concat_str(
        pl.lit("teacher-"), pl.col("section_dcid"), pl.lit("-"), pl.col("userSourcedId")
    )
    return t.select(
        *_common(source, key, key),
        pl.col("section_dcid").alias("classSourcedId"),
        pl.col("school_dcid").alias("schoolSourcedId"),
        pl.col("userSourcedId"),
        pl.lit("teacher").alias("role"),
        pl.col("primary"),
        pl.col("teacherRole"),
        _date("start_date").alias("beginDate"),
        _date("end_date").alias("endDate"),
    )


def assemble(parts: Mapping[str, Sequence[pl.DataFrame]]) -> Roster:
    """Canonical roster from per-entity pieces; every table conformed, missing ones empty."""
    roster = empty_roster()
    for name, frames in parts.items():
        if name not in ENTITIES:
            raise KeyError(name)
        conformed = [conform(name, pack_metadata(f)) for f in frames if f.height]
        if conformed:
            roster[name] = pl.concat(conformed)
    return roster


def attach_custom(
    frame: pl.DataFrame, custom: pl.DataFrame, prefix: str, fields: Sequence[tuple[str, str]]
) -> pl.DataFrame:
    """Join custom field values (``key`` column + table columns) as metadata entries.

    ``fields`` pairs the table column with the name the configuration uses (``TABLE.field``),
    which becomes the metadata key. Rows without a value get ``null`` for that key.
    """
    cols = [pl.col(c).alias(META + name) for c, name in fields]
    values = custom.select((pl.lit(prefix) + pl.col("key")).alias("_k"), *cols).unique(
        "_k", keep="first"
    )
    existing = [c for c in values.columns if c in frame.columns]
    return frame.drop(existing).join(values, left_on="sourcedId", right_on="_k", how="left")
