"""Synthetic district, day 0: PowerSchool's raw tables generated column by column (numpy/Polars).

Everything derives from one seeded generator, so the same (size, seed, students) gives the same
tables. Messy cases are planted on purpose (see :mod:`.district` for the ground truth they leave).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from rostersync.errors import ConfigurationError

from . import _names as N  # noqa: N812

#: size → (schools, students); the issue's sizes.
SIZES: dict[str, tuple[int, int]] = {
    "tiny": (1, 50),
    "small": (5, 2_000),
    "medium": (40, 30_000),
    "large": (300, 250_000),
    "mega": (1_500, 1_000_000),
}
#: The school year of day 0: YearID 35 = 2025-26.
YEAR_ID = 35
FIRST_DAY = dt.date(2025, 8, 20)
LAST_DAY = dt.date(2026, 6, 5)
#: Day 0 of the district's life; day N is BASE_DATE + N days.
BASE_DATE = dt.date(2025, 8, 25)
GRADUATED_SCHOOL = 999_999
STUDENT_DOMAIN = "students.example.org"
STAFF_DOMAIN = "district.example.org"

I64 = pl.Int64
STATUS_A, STATUS_P, STATUS_T, STATUS_G, STATUS_I = 0, -1, 2, 3, 1


@dataclass(frozen=True)
class Shape:
    """How big the district is."""

    size: str
    schools: int
    students: int


def shape_for(size: str, students: int | None) -> Shape:
    """The school and student counts of a size, optionally with an explicit student count."""
    if size not in SIZES:
        raise ConfigurationError(
            f"unknown district size {size!r}",
            setting="size",
            hint=f"use one of {', '.join(SIZES)}",
        )
    schools, default_students = SIZES[size]
    if students is None:
        return Shape(size, schools, default_students)
    if students < 1:
        raise ConfigurationError("--students must be at least 1", setting="students")
    per_school = default_students / schools
    return Shape(size, max(1, min(schools, round(students / per_school) or 1)), students)


def fold(expr: pl.Expr) -> pl.Expr:
    """Lower-case ASCII form of a name, for logins and email local parts."""
    return expr.str.to_lowercase().str.replace_many(list(N.ASCII_FOLD), list(N.ASCII_FOLD.values()))


def pick(rng: np.random.Generator, pool: tuple[str, ...], n: int) -> pl.Series:
    """n values drawn from a pool."""
    return pl.Series(pool, dtype=pl.Utf8).gather(rng.integers(0, len(pool), n))


def dates(start: dt.date, offsets: np.ndarray) -> pl.Series:
    """start + offsets days, as a Polars Date series."""
    return pl.Series(np.datetime64(start, "D") + offsets.astype("timedelta64[D]")).cast(pl.Date)


def schools_table(shape: Shape, rng: np.random.Generator) -> pl.DataFrame:
    """SCHOOLS, plus the 'Graduated Students' school (number 999999)."""
    n = shape.schools
    kind = np.arange(n) % 3 if n > 1 else np.full(1, 3)
    low = np.choose(np.minimum(kind, 3), [0, 6, 9, 0])
    high = np.choose(np.minimum(kind, 3), [5, 8, 12, 12])
    label = np.choose(np.minimum(kind, 3), [0, 1, 2, 3])
    words = pick(rng, N.SCHOOL_WORDS, n)
    kinds = pl.Series(["Elementary", "Middle School", "High School", "K-12 Academy"]).gather(label)
    number = 100 + 10 * np.arange(n)
    frame = pl.DataFrame(
        {
            "dcid": np.arange(1, n + 1),
            "id": np.arange(1, n + 1) + 1000,
            "school_number": number,
            "name": words + " " + kinds,
            "abbreviation": pl.Series([f"S{x}" for x in number]),
            "low_grade": low,
            "high_grade": high,
            "alternate_school_number": number + 5000,
            "state_province_id": pl.Series(
                [f"0{x:05d}" if x % 7 == 0 else f"{x + 30000}" for x in number]
            ),
            "schooladdress": pl.Series((rng.integers(10, 9999, n)).astype(str))
            + " "
            + pick(rng, N.STREETS, n),
            "schoolcity": pick(rng, N.CITIES, n),
            "schoolstate": pl.Series(["WA"] * n),
            "schoolzip": pl.Series(
                [f"{98000 + x % 999:05d}" if x % 4 else f"0{1000 + x % 999}" for x in range(n)]
            ),
            "schoolphone": pl.Series([f"(206) 555-{1000 + x % 9000:04d}" for x in range(n)]),
            "principal_first": pick(rng, N.FIRST_F + N.FIRST_M, n),
            "principal_last": pick(rng, N.LAST, n),
        }
    )
    frame = frame.with_columns(
        pl.col("name")
        + pl.when(pl.int_range(pl.len()) >= len(N.SCHOOL_WORDS) * 3)
        .then(pl.lit(" ") + pl.col("school_number").cast(pl.Utf8))
        .otherwise(pl.lit("")),
        principalemail=fold(pl.col("principal_first").str.slice(0, 1))
        + fold(pl.col("principal_last"))
        + pl.lit(f"@{STAFF_DOMAIN}"),
    )
    graduated = pl.DataFrame(
        {
            "dcid": [n + 1],
            "id": [n + 1 + 1000],
            "school_number": [GRADUATED_SCHOOL],
            "name": ["Graduated Students"],
            "abbreviation": ["GRAD"],
            "low_grade": [99],
            "high_grade": [99],
            "alternate_school_number": [GRADUATED_SCHOOL],
            "state_province_id": [None],
            "schooladdress": [None],
            "schoolcity": [None],
            "schoolstate": [None],
            "schoolzip": [None],
            "schoolphone": [None],
            "principal_first": [None],
            "principal_last": [None],
            "principalemail": [None],
        },
        schema=frame.schema,
    )
    return pl.concat([frame, graduated]).cast(
        dict.fromkeys(
            ("dcid", "id", "school_number", "low_grade", "high_grade", "alternate_school_number"),
            I64,
        )
    )


FIRST_NAMES = N.FIRST_F + N.FIRST_M


def max_of(series: pl.Series, default: int) -> int:
    """The largest value of an integer column (default when empty)."""
    value = series.max()
    return int(value) if isinstance(value, int | float) else default


def where(mask: np.ndarray, a: object, b: object) -> pl.Series:
    """Elementwise choice between two series/scalars (Polars, so strings stay columnar)."""
    ea = a if isinstance(a, pl.Series) else pl.lit(a)
    eb = b if isinstance(b, pl.Series) else pl.lit(b)
    return pl.select(pl.when(pl.Series(mask)).then(ea).otherwise(eb).alias("v")).to_series()


def digits(rng: np.random.Generator, low: int, high: int, n: int) -> pl.Series:
    """n random integers in [low, high) as strings."""
    return pl.Series(rng.integers(low, high, n)).cast(pl.Utf8)


def phone(rng: np.random.Generator, n: int) -> pl.Series:
    """Phone numbers in the three formats real SIS data mixes."""
    local = digits(rng, 2_000_000, 9_999_999, n)
    style = rng.integers(0, 3, n)
    a = "(206) " + local.str.slice(0, 3) + "-" + local.str.slice(3)
    b = "206-" + local.str.slice(0, 3) + "-" + local.str.slice(3)
    return where(style == 0, a, where(style == 1, b, "206" + local))


SUFFIX_RE = r" (Jr\.|Sr\.|II|III|IV)$"


def school_email(frame: pl.DataFrame, rng: np.random.Generator) -> pl.Series:
    """Each student's school email, with missing (3%) and malformed (2%) values."""
    roll = rng.random(frame.height)
    good = frame.select(
        (
            fold(pl.col("first_name").str.split(" ").list.first())
            + "."
            + fold(pl.col("last_name").str.replace(SUFFIX_RE, ""))
            + pl.col("student_number").cast(pl.Utf8).str.slice(-3)
        ).alias("v")
    ).to_series()
    fine = good + "@" + STUDENT_DOMAIN
    return where(
        roll < 0.03,
        None,
        where(roll < 0.04, good + " at " + STUDENT_DOMAIN, where(roll < 0.05, good + "@", fine)),
    )


def student_rows(
    rng: np.random.Generator,
    schools: pl.DataFrame,
    n: int,
    *,
    first_id: int,
    first_family: int,
    entry: dt.date,
) -> pl.DataFrame:
    """n new active STUDENTS rows at random schools; runs of siblings share a family."""
    real = schools.filter(pl.col("school_number") != GRADUATED_SCHOOL)
    weights = rng.uniform(0.6, 1.4, real.height)
    sidx = rng.choice(real.height, size=n, p=weights / weights.sum())
    low = real["low_grade"].to_numpy()[sidx]
    high = real["high_grade"].to_numpy()[sidx]
    grade = low + np.floor(rng.random(n) * (high - low + 1)).astype(np.int64)
    female = rng.random(n) < 0.5
    new_family = rng.random(n) > 0.3
    new_family[0] = True
    family_index = np.cumsum(new_family) - 1
    last = pick(rng, N.LAST, int(new_family.sum())).gather(family_index)
    with_suffix = rng.random(n) < 0.02
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    birth = (
        np.datetime64("2019-09-01", "D")
        - (grade * 365.25).astype("timedelta64[D]")
        - rng.integers(0, 365, n).astype("timedelta64[D]")
    )
    exit_day = LAST_DAY + dt.timedelta(days=1)
    frame = pl.DataFrame(
        {
            "id": ids,
            "dcid": ids + 100_000,
            "student_number": ids + 20_000,
            "state_studentnumber": digits(rng, 0, 10**10, n).str.zfill(10),
            "first_name": where(female, pick(rng, N.FIRST_F, n), pick(rng, N.FIRST_M, n)),
            "middle_name": where(rng.random(n) < 0.6, pick(rng, N.FIRST_F + N.FIRST_M, n), None),
            "last_name": where(with_suffix, last + pick(rng, N.SUFFIXES, n), last),
            "gender": where(female, "F", "M"),
            "dob": pl.Series(birth).cast(pl.Date),
            "grade_level": grade,
            "schoolid": real["school_number"].to_numpy()[sidx],
            "enroll_status": np.zeros(n, dtype=np.int64),
            "entrydate": pl.Series([entry] * n, dtype=pl.Date),
            "exitdate": pl.Series([exit_day] * n, dtype=pl.Date),
            "entrycode": where(rng.random(n) < 0.8, "01", "03"),
            "districtentrydate": pl.Series([entry] * n, dtype=pl.Date),
            "sched_yearofgraduation": 2026 + 12 - grade,
            "fedethnicity": rng.integers(0, 2, n),
            "street": digits(rng, 1, 9999, n) + " " + pick(rng, N.STREETS, n),
            "city": pick(rng, N.CITIES, n),
            "state": pl.Series(["WA"] * n),
            "zip": where(
                rng.random(n) < 0.1,
                digits(rng, 1000, 9999, n).str.zfill(5),
                digits(rng, 98001, 99403, n),
            ),
            "home_phone": phone(rng, n),
            "home_room": digits(rng, 100, 140, n),
            "lunch_id": ids + 500_000,
            "family": family_index + first_family,
        }
    )
    return frame.with_columns(
        student_web_id=fold(pl.col("first_name").str.slice(0, 1))
        + fold(pl.col("last_name").str.replace(SUFFIX_RE, ""))
        + pl.col("student_number").cast(pl.Utf8),
    )


def plant_statuses(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Pre-registered, transferred-out, graduated and inactive students among the active ones."""
    roll = rng.random(frame.height)
    status = np.select(
        [roll < 0.03, roll < 0.08, roll < 0.12, roll < 0.13],
        [STATUS_P, STATUS_T, STATUS_G, STATUS_I],
        STATUS_A,
    )
    left = dates(FIRST_DAY, rng.integers(1, 5, frame.height))
    prereg = dates(BASE_DATE, rng.integers(20, 60, frame.height))
    s = pl.Series(status)
    return frame.with_columns(
        enroll_status=s,
        schoolid=pl.when(s == STATUS_G).then(GRADUATED_SCHOOL).otherwise(pl.col("schoolid")),
        grade_level=pl.when(s == STATUS_G).then(99).otherwise(pl.col("grade_level")),
        entrydate=pl.when(s == STATUS_P).then(prereg).otherwise(pl.col("entrydate")),
        exitdate=pl.when(s.is_in([STATUS_T, STATUS_G, STATUS_I]))
        .then(left)
        .otherwise(pl.col("exitdate")),
    )


def plant_duplicates(
    frame: pl.DataFrame, rng: np.random.Generator
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The same child entered twice under two IDs; returns (students, truth: dcid → original)."""
    active = frame.filter(pl.col("enroll_status") == STATUS_A)
    count = min(active.height, max(1, round(frame.height * 0.005)))
    chosen = active.gather(np.sort(rng.choice(active.height, count, replace=False)))
    next_id = max_of(frame["id"], 0) + 1
    ids = pl.Series(np.arange(next_id, next_id + count, dtype=np.int64))
    dups = chosen.with_columns(
        id=ids,
        dcid=ids + 100_000,
        student_number=ids + 20_000,
        lunch_id=ids + 500_000,
        middle_name=pl.lit(None, pl.Utf8),
        state_studentnumber=pl.lit(None, pl.Utf8),
        student_web_id=pl.col("student_web_id").str.replace(r"\d+$", "")
        + (ids + 20_000).cast(pl.Utf8),
    )
    truth = pl.DataFrame({"dcid": dups["dcid"], "duplicate_of": chosen["dcid"]})
    return pl.concat([frame, dups]), truth


def legacy_contacts(students: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    """Fill the legacy single-string contact columns from each family's first two contacts."""
    first_two = persons.filter(pl.col("family_rank") <= 2).select(
        "family",
        "family_rank",
        pl.concat_str(["lastname", "firstname"], separator=", ").alias("comma_name"),
        pl.concat_str(["firstname", "lastname"], separator=" ").alias("plain_name"),
        "email",
        "phone",
        pl.col("gender").alias("cgender"),
    )
    one = first_two.filter(pl.col("family_rank") == 1).drop("family_rank")
    two = first_two.filter(pl.col("family_rank") == 2).drop("family_rank")
    joined = students.join(one, on="family", how="left").join(
        two, on="family", how="left", suffix="_2"
    )
    plain_style = (pl.col("id") % 5) == 0
    stale = (pl.col("id") % 23) == 0
    first = pl.when(plain_style).then("plain_name").otherwise("comma_name")
    second = pl.when(plain_style).then("plain_name_2").otherwise("comma_name_2")
    return joined.with_columns(
        mother=pl.when(pl.col("cgender") == "F")
        .then(first)
        .otherwise(pl.when(pl.col("cgender_2") == "F").then(second)),
        father=pl.when(pl.col("cgender_2") == "M")
        .then(second)
        .otherwise(pl.when(pl.col("cgender") == "M").then(first)),
        emerg_contact_1=pl.when(stale)
        .then(pl.col("comma_name").str.replace(r", .*$", ", Pat"))
        .otherwise("comma_name"),
        emerg_phone_1=pl.col("phone"),
        emerg_contact_2=pl.col("comma_name_2"),
        emerg_phone_2=pl.col("phone_2"),
        guardianemail=pl.when(((pl.col("id") % 3) == 0) & pl.col("email_2").is_not_null())
        .then(pl.concat_str(["email", "email_2"], separator=", "))
        .otherwise("email"),
    ).drop(
        "comma_name",
        "plain_name",
        "email",
        "phone",
        "comma_name_2",
        "plain_name_2",
        "email_2",
        "phone_2",
        "cgender",
        "cgender_2",
    )


#: CODESET rows: (codesetid, codetype, code, displayvalue).
CODESET: tuple[tuple[int, str, str, str], ...] = (
    (1, "Relationship", "Mother", "Mother"),
    (2, "Relationship", "Father", "Father"),
    (3, "Relationship", "Guardian", "Guardian"),
    (4, "Relationship", "Grandparent", "Grandparent"),
    (11, "Phone", "Home", "Home"),
    (12, "Phone", "Mobile", "Mobile"),
    (13, "Phone", "Work", "Work"),
    (21, "Email", "Current", "Current"),
    (22, "Email", "Work", "Work"),
)


def persons_for(
    students: pl.DataFrame, rng: np.random.Generator, first_person: int
) -> pl.DataFrame:
    """One or two contacts (Contacts module persons) per family, with email and phone."""
    families = (
        students.group_by("family", maintain_order=True)
        .agg(pl.col("last_name").first().str.replace(SUFFIX_RE, "").alias("family_last"))
        .sort("family")
    )
    f = families.height
    two = rng.random(f) < 0.8
    rank1 = families.with_columns(family_rank=pl.lit(1, I64))
    rank2 = families.filter(pl.Series(two)).with_columns(family_rank=pl.lit(2, I64))
    people = pl.concat([rank1, rank2]).sort("family", "family_rank")
    n = people.height
    female = (people["family_rank"] == 1).to_numpy() ^ (rng.random(n) < 0.1)
    other_last = rng.random(n) < 0.2
    ids = np.arange(first_person, first_person + n, dtype=np.int64)
    people = people.with_columns(
        id=pl.Series(ids),
        dcid=pl.Series(ids + 700_000),
        firstname=where(female, pick(rng, N.FIRST_F, n), pick(rng, N.FIRST_M, n)),
        middlename=where(rng.random(n) < 0.3, pick(rng, N.FIRST_F + N.FIRST_M, n), None),
        lastname=where(
            other_last & (people["family_rank"] == 2).to_numpy(),
            pick(rng, N.LAST, n),
            people["family_last"],
        ),
        gender=where(female, "F", "M"),
        isactive=pl.lit(1, I64),
        relationship=where(female, 1, 2).cast(I64),
        phone=phone(rng, n),
    )
    roll = rng.random(n)
    good = people.select(
        (
            fold(pl.col("firstname")) + "." + fold(pl.col("lastname")) + pl.col("id").cast(pl.Utf8)
        ).alias("v")
    ).to_series()
    email = where(
        roll < 0.1,
        None,
        where(roll < 0.13, good + "@@mail.example.com", good + "@mail.example.com"),
    )
    return people.with_columns(email=email).drop("family_last")


def contact_tables(
    students: pl.DataFrame, persons: pl.DataFrame, rng: np.random.Generator
) -> dict[str, pl.DataFrame]:
    """person, studentcontactassoc/detail, emailaddress, phonenumber and their assoc tables."""
    assoc = (
        students.select(pl.col("dcid").alias("studentdcid"), "family")
        .join(
            persons.select(pl.col("id").alias("personid"), "family", "family_rank", "relationship"),
            on="family",
        )
        .sort("studentdcid", "family_rank")
    )
    n = assoc.height
    assoc = assoc.with_columns(
        studentcontactassocid=pl.int_range(1, n + 1, dtype=I64),
        contactpriorityorder=pl.col("family_rank"),
        currreltypecodesetid=pl.col("relationship"),
    )
    detail = assoc.select(
        pl.col("studentcontactassocid").alias("studentcontactdetailid"),
        "studentcontactassocid",
        pl.col("relationship").alias("relationshiptypecodesetid"),
        iscustodial=pl.Series(np.where(rng.random(n) < 0.9, 1, 0)),
        liveswithflg=pl.Series(np.where(rng.random(n) < 0.85, 1, 0)),
        schoolpickupflg=pl.Series(np.where(rng.random(n) < 0.7, 1, 0)),
        isemergency=pl.Series(np.where(rng.random(n) < 0.8, 1, 0)),
        receivesmailflg=pl.Series(np.where(rng.random(n) < 0.9, 1, 0)),
        isactive=pl.lit(1, I64),
        startdate=pl.lit(dt.date(2020, 8, 1)),
        enddate=pl.lit(None, pl.Date),
    )
    with_email = persons.filter(pl.col("email").is_not_null())
    emails = with_email.select(
        pl.int_range(1, with_email.height + 1, dtype=I64).alias("emailaddressid"),
        pl.col("email").alias("emailaddress"),
        pl.col("id").alias("personid"),
    )
    phones = persons.select(
        pl.int_range(1, persons.height + 1, dtype=I64).alias("phonenumberid"),
        pl.col("phone").alias("phonenumber"),
        pl.lit(1, I64).alias("issms"),
        pl.col("id").alias("personid"),
    )
    return {
        "person": persons.select(
            "id", "dcid", "firstname", "middlename", "lastname", "gender", "isactive"
        ),
        "studentcontactassoc": assoc.select(
            "studentcontactassocid",
            "studentdcid",
            "personid",
            "contactpriorityorder",
            "currreltypecodesetid",
        ),
        "studentcontactdetail": detail,
        "emailaddress": emails.select("emailaddressid", "emailaddress"),
        "personemailaddressassoc": emails.select(
            pl.col("emailaddressid").alias("personemailaddressassocid"),
            "personid",
            "emailaddressid",
            pl.lit(21, I64).alias("emailtypecodesetid"),
            pl.lit(1, I64).alias("isprimaryemailaddress"),
            pl.lit(1, I64).alias("emailaddresspriorityorder"),
        ),
        "phonenumber": phones.select("phonenumberid", "phonenumber", "issms"),
        "personphonenumberassoc": phones.select(
            pl.col("phonenumberid").alias("personphonenumberassocid"),
            "personid",
            "phonenumberid",
            pl.lit(12, I64).alias("phonetypecodesetid"),
            pl.lit(1, I64).alias("ispreferred"),
            pl.lit(1, I64).alias("phonenumberpriorityorder"),
        ),
        "codeset": pl.DataFrame(
            list(CODESET),
            schema={
                "codesetid": I64,
                "codetype": pl.Utf8,
                "code": pl.Utf8,
                "displayvalue": pl.Utf8,
            },
            orient="row",
        ).with_columns(description=pl.col("displayvalue")),
    }


def staff_tables(
    students: pl.DataFrame, schools: pl.DataFrame, rng: np.random.Generator
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """USERS (one per person) and SCHOOLSTAFF (one per person and school)."""
    real = schools.filter(pl.col("school_number") != GRADUATED_SCHOOL)
    per_school = real.select("school_number").join(
        students.group_by(pl.col("schoolid").alias("school_number")).len(),
        on="school_number",
        how="left",
    )
    counts = per_school["len"].fill_null(0).to_numpy()
    numbers = per_school["school_number"].to_numpy()
    teachers = np.maximum(3, np.round(counts * 0.055)).astype(np.int64)
    admins = np.maximum(1, np.round(counts * 0.012)).astype(np.int64)
    office = max(2, round(students.height * 0.003))
    home = np.concatenate(
        [np.repeat(numbers, teachers), np.repeat(numbers, admins), np.zeros(office, dtype=np.int64)]
    )
    kind = np.concatenate(
        [np.ones(teachers.sum(), dtype=np.int64), np.full(admins.sum() + office, 2, dtype=np.int64)]
    )
    n = home.size
    female = rng.random(n) < 0.6
    dcid = np.arange(3_000_001, 3_000_001 + n, dtype=np.int64)
    users = pl.DataFrame(
        {
            "dcid": dcid,
            "first_name": where(female, pick(rng, N.FIRST_F, n), pick(rng, N.FIRST_M, n)),
            "middle_name": where(rng.random(n) < 0.4, pick(rng, N.FIRST_F + N.FIRST_M, n), None),
            "last_name": pick(rng, N.LAST, n),
            "homeschoolid": home,
            "kind": kind,
            "home_phone": digits(rng, 2_060_000_000, 2_069_999_999, n),
        }
    )
    login = fold(pl.col("first_name").str.slice(0, 1)) + fold(pl.col("last_name"))
    numeric_number = pl.Series(rng.random(n) < 0.8)
    missing_email = pl.Series(rng.random(n) < 0.05)
    teacher_admin = pl.Series(rng.random(n) < 0.1)
    users = users.with_columns(
        teachernumber=pl.when(numeric_number)
        .then((pl.col("dcid") - 2_990_000).cast(pl.Utf8))
        .otherwise(fold(pl.col("first_name").str.slice(0, 1)) + "." + fold(pl.col("last_name"))),
        email_addr=pl.when(missing_email)
        .then(None)
        .otherwise(
            fold(pl.col("first_name").str.split(" ").list.first())
            + "."
            + fold(pl.col("last_name"))
            + (pl.col("dcid") % 1000).cast(pl.Utf8)
            + f"@{STAFF_DOMAIN}"
        ),
        loginid=pl.when((pl.col("kind") == 2) | teacher_admin).then(
            login + (pl.col("dcid") % 1000).cast(pl.Utf8)
        ),
        teacherloginid=pl.when(pl.col("kind") == 1).then(
            login + (pl.col("dcid") % 1000).cast(pl.Utf8) + "t"
        ),
        psaccess=pl.when((pl.col("kind") == 2) | teacher_admin).then(1).otherwise(0),
        ptaccess=pl.when(pl.col("kind") == 1).then(1).otherwise(0),
        groupvalue=pl.when(pl.col("kind") == 1).then(4).otherwise(9),
    )
    # A few teachers also teach at a second school.
    teacher_rows = users.filter((pl.col("kind") == 1) & (pl.col("homeschoolid") != 0))
    second = teacher_rows.filter(pl.Series(rng.random(teacher_rows.height) < 0.05))
    if numbers.size > 1 and second.height:
        other = numbers[rng.integers(0, numbers.size, second.height)]
        second = (
            second.with_columns(pl.Series("other", other))
            .filter(pl.col("other") != pl.col("homeschoolid"))
            .with_columns(homeschoolid=pl.col("other"))
            .drop("other")
        )
    else:
        second = second.clear()
    rows = pl.concat(
        [
            users.select("dcid", "homeschoolid", "kind"),
            second.select("dcid", "homeschoolid", "kind"),
        ]
    )
    m = rows.height
    ids = np.arange(10_001, 10_001 + m, dtype=np.int64)
    schoolstaff = rows.select(
        pl.Series("id", ids),
        pl.Series("dcid", ids + 50_000),
        pl.col("dcid").alias("users_dcid"),
        pl.col("homeschoolid").alias("schoolid"),
        pl.col("kind").alias("staffstatus"),
        status=pl.Series(np.where(rng.random(m) < 0.03, 2, 1)),
    )
    return users.drop("kind"), schoolstaff


#: (n, abbreviation, name, portion, first day, last day) of the year's terms; ID = YearID*100+n.
TERM_PLAN: tuple[tuple[int, str, str, int, dt.date, dt.date], ...] = (
    (0, "{y}", "{y}", 1, FIRST_DAY, LAST_DAY),
    (1, "S1", "Semester 1", 2, FIRST_DAY, dt.date(2026, 1, 16)),
    (2, "S2", "Semester 2", 2, dt.date(2026, 1, 20), LAST_DAY),
    (3, "Q1", "Quarter 1", 4, FIRST_DAY, dt.date(2025, 10, 31)),
    (4, "Q2", "Quarter 2", 4, dt.date(2025, 11, 3), dt.date(2026, 1, 16)),
    (5, "Q3", "Quarter 3", 4, dt.date(2026, 1, 20), dt.date(2026, 3, 27)),
    (6, "Q4", "Quarter 4", 4, dt.date(2026, 3, 30), LAST_DAY),
)


def terms_table(schools: pl.DataFrame, year_id: int, first_dcid: int) -> pl.DataFrame:
    """TERMS for every real school: the year, two semesters and four quarters."""
    shift = dt.timedelta(days=364 * (year_id - YEAR_ID))
    label = f"{year_id + 1990}-{year_id + 1991}"
    plan = pl.DataFrame(
        [
            (
                year_id * 100 + k,
                abbr.format(y=f"{(year_id + 1990) % 100}-{(year_id + 1991) % 100}"),
                name.format(y=label),
                portion,
                first + shift,
                last + shift,
            )
            for k, abbr, name, portion, first, last in TERM_PLAN
        ],
        schema={
            "id": I64,
            "abbreviation": pl.Utf8,
            "name": pl.Utf8,
            "portion": I64,
            "firstday": pl.Date,
            "lastday": pl.Date,
        },
        orient="row",
    )
    real = schools.filter(pl.col("school_number") != GRADUATED_SCHOOL).select(
        pl.col("school_number").alias("schoolid")
    )
    terms = real.join(plan, how="cross").with_columns(
        yearid=pl.lit(year_id, I64),
        isyearrec=(pl.col("portion") == 1).cast(I64),
    )
    return terms.with_columns(
        dcid=pl.int_range(first_dcid, first_dcid + terms.height, dtype=I64)
    ).select(
        "dcid",
        "id",
        "schoolid",
        "yearid",
        "firstday",
        "lastday",
        "abbreviation",
        "name",
        "portion",
        "isyearrec",
    )


def courses_table() -> pl.DataFrame:
    """The district course catalog (some course numbers numeric, some with a leading zero)."""
    rows = []
    for s, (code, subject) in enumerate(N.SUBJECTS):
        for level in range(1, 6):
            number = f"{code}{level}0{s % 3 + 1}"
            if s == 10:
                number = f"0{410 + level}"
            elif s == 11:
                number = f"{7100 + level}"
            rows.append((number, f"{subject} {level}"))
    n = len(rows)
    return pl.DataFrame(
        {
            "dcid": range(8_001, 8_001 + n),
            "id": range(9_001, 9_001 + n),
            "course_number": [r[0] for r in rows],
            "course_name": [r[1] for r in rows],
        },
        schema={"dcid": I64, "id": I64, "course_number": pl.Utf8, "course_name": pl.Utf8},
    )


def _per_school(frame: pl.DataFrame, key: str, schools: np.ndarray) -> tuple[np.ndarray, ...]:
    """Start offset and row count of each school's block in a frame sorted by `key`."""
    counts = (
        pl.DataFrame({key: schools})
        .join(frame.group_by(key).len(), on=key, how="left")["len"]
        .fill_null(0)
        .to_numpy()
        .astype(np.int64)
    )
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return starts, counts


def sections_tables(
    students: pl.DataFrame,
    schools: pl.DataFrame,
    schoolstaff: pl.DataFrame,
    courses: pl.DataFrame,
    terms: pl.DataFrame,
    rng: np.random.Generator,
    *,
    first_id: int = 30_001,
    first_st: int = 1,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """SECTIONS (lead teacher in Sections.Teacher) and SECTIONTEACHER (lead + co-teachers)."""
    numbers = np.sort(
        schools.filter(pl.col("school_number") != GRADUATED_SCHOOL)["school_number"].to_numpy()
    )
    active = students.filter(pl.col("schoolid") != GRADUATED_SCHOOL)
    per = pl.DataFrame({"schoolid": numbers}).join(
        active.group_by("schoolid").len(), on="schoolid", how="left"
    )
    count = np.maximum(4, np.round(per["len"].fill_null(0).to_numpy() * 0.3)).astype(np.int64)
    school = np.repeat(numbers, count)
    n = school.size
    teachers = schoolstaff.filter((pl.col("staffstatus") == 1) & (pl.col("status") == 1)).sort(
        "schoolid", "id"
    )
    t_start, t_count = _per_school(teachers, "schoolid", numbers)
    pos = np.repeat(np.arange(numbers.size), count)
    lead_pos = t_start[pos] + np.floor(rng.random(n) * t_count[pos]).astype(np.int64)
    teacher_ids = teachers["id"].to_numpy()
    year = max_of(terms["yearid"], YEAR_ID)
    term_n = rng.choice(7, size=n, p=[0.5, 0.15, 0.15, 0.05, 0.05, 0.05, 0.05])
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    period = rng.integers(1, 9, n)
    sections = pl.DataFrame(
        {
            "id": ids,
            "dcid": ids + 170_000,
            "schoolid": school,
            "course_number": courses["course_number"].gather(rng.integers(0, courses.height, n)),
            "termid": year * 100 + term_n,
            "teacher": teacher_ids[lead_pos],
            "expression": pl.Series(period).cast(pl.Utf8)
            + where(rng.random(n) < 0.9, "(A-F)", "(A)"),
            "room": digits(rng, 100, 400, n),
            "maxenrollment": np.full(n, 30, dtype=np.int64),
        }
    )
    sections = sections.with_columns(
        section_number=(pl.int_range(pl.len()).over("schoolid", "course_number") + 1).cast(pl.Utf8)
    )
    co = (rng.random(n) < 0.1) & (t_count[pos] > 1)
    co_pos = t_start[pos] + (
        (lead_pos - t_start[pos] + 1 + rng.integers(0, np.maximum(t_count[pos] - 1, 1)))
        % np.maximum(t_count[pos], 1)
    )
    term_dates = terms.select("id", "firstday", "lastday").unique("id").sort("id")
    lead = pl.DataFrame(
        {
            "sectionid": ids,
            "teacherid": teacher_ids[lead_pos],
            "roleid": np.ones(n, dtype=np.int64),
            "allocation": np.ones(n),
            "priorityorder": np.ones(n, dtype=np.int64),
            "termid": sections["termid"],
        }
    )
    cot = pl.DataFrame(
        {
            "sectionid": ids[co],
            "teacherid": teacher_ids[co_pos[co]],
            "roleid": np.full(co.sum(), 2, dtype=np.int64),
            "allocation": np.full(co.sum(), 0.5),
            "priorityorder": np.full(co.sum(), 2, dtype=np.int64),
            "termid": sections["termid"].filter(pl.Series(co)),
        }
    )
    st = (
        pl.concat([lead, cot])
        .sort("sectionid", "priorityorder")
        .join(term_dates, left_on="termid", right_on="id", how="left")
        .rename({"firstday": "start_date", "lastday": "end_date"})
        .drop("termid")
    )
    st = st.with_columns(id=pl.int_range(first_st, first_st + st.height, dtype=I64)).select(
        "id",
        "sectionid",
        "teacherid",
        "roleid",
        "allocation",
        "priorityorder",
        "start_date",
        "end_date",
    )
    return sections, st


ROLEDEF = pl.DataFrame(
    {
        "id": [1, 2, 3],
        "dcid": [1, 2, 3],
        "name": ["Lead Teacher", "Co-teacher", "Support Staff"],
        "rolekey": ["lead", "additional", "support"],
        "rolecategory": ["Teacher", "Teacher", "Teacher"],
        "isvisible": [1, 1, 1],
    },
    schema={
        "id": I64,
        "dcid": I64,
        "name": pl.Utf8,
        "rolekey": pl.Utf8,
        "rolecategory": pl.Utf8,
        "isvisible": I64,
    },
)


def enrollments(
    students: pl.DataFrame,
    sections: pl.DataFrame,
    terms: pl.DataFrame,
    rng: np.random.Generator,
    *,
    first_id: int,
    per_student: int = 6,
    empty_share: float = 0.03,
    skip_share: float = 0.02,
) -> pl.DataFrame:
    """CC rows: each active student in ~6 sections of their school; some sections stay empty,
    some students get none, a few enrollments are dropped (negative section/term IDs)."""
    active = students.filter(pl.col("enroll_status") == STATUS_A)
    active = active.filter(pl.Series(rng.random(active.height) >= skip_share))
    usable = sections.filter(pl.Series(rng.random(sections.height) >= empty_share)).sort(
        "schoolid", "id"
    )
    numbers = np.unique(usable["schoolid"].to_numpy())
    starts, counts = _per_school(usable, "schoolid", numbers)
    pos = np.searchsorted(numbers, active["schoolid"].to_numpy())
    pos = np.clip(pos, 0, max(numbers.size - 1, 0))
    ok = numbers.size > 0
    if not ok or active.height == 0:
        return pl.DataFrame(schema=CC_SCHEMA)
    student_rep = np.repeat(np.arange(active.height), per_student)
    p = pos[student_rep]
    pick_idx = starts[p] + np.floor(rng.random(student_rep.size) * counts[p]).astype(np.int64)
    known = numbers[p] == active["schoolid"].to_numpy()[student_rep]
    cc = pl.DataFrame(
        {
            "studentid": active["id"].to_numpy()[student_rep][known],
            "section_row": pick_idx[known],
            "entry": active["entrydate"].gather(student_rep[known]),
        }
    ).unique(["studentid", "section_row"], maintain_order=True)
    sec = usable.select(
        "id", "schoolid", "course_number", "section_number", "termid", "expression"
    ).gather(cc["section_row"].to_numpy())
    term_dates = terms.select("id", "firstday", "lastday").unique("id")
    cc = pl.concat([cc.drop("section_row"), sec.rename({"id": "sectionid"})], how="horizontal")
    cc = cc.join(term_dates, left_on="termid", right_on="id", how="left")
    ids = pl.int_range(first_id, first_id + cc.height, dtype=I64)
    dropped = pl.Series(rng.random(cc.height) < 0.02)
    enrolled = pl.max_horizontal("firstday", "entry")
    return (
        cc.with_columns(id=ids)
        .with_columns(
            dcid=pl.col("id") + 2_000_000,
            dateenrolled=enrolled,
            dateleft=pl.when(dropped)
            .then(enrolled + pl.duration(days=7))
            .otherwise(pl.col("lastday") + pl.duration(days=1)),
            sectionid=pl.when(dropped).then(-pl.col("sectionid")).otherwise("sectionid"),
            termid=pl.when(dropped).then(-pl.col("termid")).otherwise("termid"),
            origsectionid=pl.lit(0, I64),
        )
        .select(list(CC_SCHEMA))
    )


CC_SCHEMA: dict[str, type[pl.DataType]] = {
    "id": I64,
    "dcid": I64,
    "studentid": I64,
    "sectionid": I64,
    "termid": I64,
    "schoolid": I64,
    "course_number": pl.Utf8,
    "section_number": pl.Utf8,
    "expression": pl.Utf8,
    "dateenrolled": pl.Date,
    "dateleft": pl.Date,
    "origsectionid": I64,
}


def calendar_table(schools: pl.DataFrame, first: dt.date, last: dt.date) -> pl.DataFrame:
    """CALENDAR_DAY: one row per school and date of the year, weekends and holidays included."""
    days = pl.DataFrame({"date_value": pl.date_range(first, last, "1d", eager=True)})
    holidays = [
        dt.date(2025, 9, 1),
        dt.date(2025, 11, 11),
        dt.date(2025, 11, 27),
        dt.date(2025, 11, 28),
        dt.date(2026, 1, 19),
        dt.date(2026, 2, 16),
        dt.date(2026, 5, 25),
    ] + [dt.date(2025, 12, 22) + dt.timedelta(days=k) for k in range(12)]
    days = days.with_columns(
        insession=(
            (pl.col("date_value").dt.weekday() <= 5) & ~pl.col("date_value").is_in(holidays)
        ).cast(I64),
        week_num=((pl.col("date_value") - pl.lit(first)).dt.total_days() // 7 + 1).cast(I64),
    )
    real = schools.filter(pl.col("school_number") != GRADUATED_SCHOOL).select(
        pl.col("school_number").alias("schoolid")
    )
    cal = real.join(days, how="cross")
    track = pl.col("insession")
    return (
        cal.with_columns(
            id=pl.int_range(1, cal.height + 1, dtype=I64),
            a=track,
            b=track,
            c=track,
            d=track,
            e=track,
            f=track,
            membershipvalue=track.cast(pl.Float64),
            type=pl.when(track == 1)
            .then(pl.lit(""))
            .otherwise(
                pl.when(pl.col("date_value").dt.weekday() <= 5).then(pl.lit("hol")).otherwise(None)
            ),
            note=pl.lit(None, pl.Utf8),
            scheduleid=pl.lit("A"),
            bell_schedule_id=pl.lit(1, I64),
            cycle_day_id=pl.when(track == 1)
            .then(pl.col("date_value").dt.weekday())
            .otherwise(0)
            .cast(I64),
        )
        .with_columns(dcid=pl.col("id") + 5_000_000)
        .select(
            "dcid",
            "id",
            "schoolid",
            "date_value",
            "insession",
            "a",
            "b",
            "c",
            "d",
            "e",
            "f",
            "membershipvalue",
            "type",
            "note",
            "scheduleid",
            "bell_schedule_id",
            "cycle_day_id",
            "week_num",
        )
    )


def extension_tables(students: pl.DataFrame, rng: np.random.Generator) -> dict[str, pl.DataFrame]:
    """U_DEF_EXT_STUDENTS (group U_STUDENTS_EXTENSION) and StudentCoreFields, 1:1 with STUDENTS."""
    n = students.height
    ext = pl.DataFrame(
        {
            "studentsdcid": students["dcid"],
            "school_email": school_email(students, rng),
            "preferredname": where(rng.random(n) < 0.1, pick(rng, N.FIRST_F + N.FIRST_M, n), None),
        }
    )
    core = students.select(
        pl.col("dcid").alias("studentsdcid"),
        pl.col("first_name").alias("pscore_legal_first_name"),
        pl.col("last_name").alias("pscore_legal_last_name"),
        pl.col("gender").alias("pscore_legal_gender"),
        immunization_dpt=where(
            rng.random(n) < 0.9, "Complete", where(rng.random(n) < 0.5, "Incomplete", "Exempt")
        ),
    )
    return {"u_def_ext_students": ext, "studentcorefields": core}


def build(shape: Shape, seed: int) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """Every table of the district on day 0, and the duplicate-student ground truth."""
    rng = np.random.default_rng([seed, 0])
    schools = schools_table(shape, rng)
    students = student_rows(
        rng, schools, shape.students, first_id=1, first_family=0, entry=FIRST_DAY
    )
    students = plant_statuses(students, rng)
    students, duplicates = plant_duplicates(students, rng)
    persons = persons_for(students, rng, first_person=1)
    students = legacy_contacts(students, persons)
    users, schoolstaff = staff_tables(students, schools, rng)
    courses = courses_table()
    terms = terms_table(schools, YEAR_ID, first_dcid=40_001)
    sections, sectionteacher = sections_tables(students, schools, schoolstaff, courses, terms, rng)
    cc = enrollments(students, sections, terms, rng, first_id=1)
    tables: dict[str, pl.DataFrame] = {
        "schools": schools,
        "students": students,
        "users": users,
        "schoolstaff": schoolstaff,
        "courses": courses,
        "terms": terms,
        "sections": sections,
        "sectionteacher": sectionteacher,
        "roledef": ROLEDEF,
        "cc": cc,
        "calendar_day": calendar_table(schools, FIRST_DAY, LAST_DAY),
        **contact_tables(students, persons, rng),
        **extension_tables(students, rng),
    }
    return tables, duplicates
