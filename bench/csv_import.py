"""Benchmark of the OneRoster CSV source: a 1.2 bulk package of 1M users and 6M enrollments read,
checked and mapped onto the canonical tables (target ≤ 60 s).

The package is generated column by column with Polars (deterministic): one district, schools,
a school year with two semesters, courses, classes, users (95 % students, 5 % teachers), one
primary role per user in roles.csv, each student in six classes and each teacher teaching
six. It is written as a folder (or, with ``--zip``, a deflated zip) and then read ``--runs``
times by :meth:`OneRosterCsvConnector.read` — every check of a real import included. Prints
one JSON object: seconds per run (wall and CPU), the median, rows/s and peak RSS.

    .venv/bin/python bench/csv_import.py                 # 1,000,000 users, 6,000,000 enrollments
    .venv/bin/python bench/csv_import.py --scale 0.1     # a tenth
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl

from _common import emit, load_average, machine, peak_rss_mb, progress
from rostersync.connectors.oneroster_csv import CsvOptions, OneRosterCsvConnector
from rostersync.oneroster import FILE_SETS

USERS = 1_000_000
CLASSES_PER_PERSON = 6
FILES_12 = list(FILE_SETS["1.2"])


def _ids(prefix: str, n: int) -> pl.Series:
    return pl.select(pl.format(prefix + "{}", pl.int_range(0, n))).to_series()


def _write(frame: pl.DataFrame, path: Path) -> int:
    frame.write_csv(path, line_terminator="\r\n")
    return frame.height


def generate(folder: Path, users: int) -> dict[str, int]:
    """A 1.2 bulk package of ``users`` users in ``folder``; rows per file."""
    folder.mkdir(parents=True, exist_ok=True)
    schools = max(2, users // 5000)
    teachers = max(1, users // 20)
    classes = max(1, teachers * CLASSES_PER_PERSON)
    courses = max(1, classes // 10)
    rows: dict[str, int] = {}
    orgs = pl.DataFrame(
        {
            "sourcedId": ["district", *_ids("school-", schools)],
            "name": ["Bench District", *(f"School {i}" for i in range(schools))],
            "type": ["district", *(["school"] * schools)],
            "identifier": [None, *(str(i) for i in range(schools))],
            "parentSourcedId": [None, *(["district"] * schools)],
        }
    ).select(
        "sourcedId",
        pl.lit(None, pl.Utf8).alias("status"),
        pl.lit(None, pl.Utf8).alias("dateLastModified"),
        "name",
        "type",
        "identifier",
        "parentSourcedId",
    )
    rows["orgs"] = _write(orgs, folder / "orgs.csv")
    blank = [pl.lit(None, pl.Utf8).alias("status"), pl.lit(None, pl.Utf8).alias("dateLastModified")]
    sessions = pl.DataFrame(
        {
            "sourcedId": ["sy", "s1", "s2"],
            "title": ["2026-2027", "Semester 1", "Semester 2"],
            "type": ["schoolYear", "semester", "semester"],
            "startDate": ["2026-08-20", "2026-08-20", "2027-01-10"],
            "endDate": ["2027-06-10", "2027-01-09", "2027-06-10"],
            "parentSourcedId": [None, "sy", "sy"],
            "schoolYear": ["2027"] * 3,
        }
    ).select("sourcedId", *blank, pl.exclude("sourcedId"))
    rows["academicSessions"] = _write(sessions, folder / "academicSessions.csv")
    i = pl.int_range(0, pl.len())
    rows["courses"] = _write(
        pl.DataFrame({"sourcedId": _ids("course-", courses)}).select(
            "sourcedId",
            *blank,
            pl.lit("sy").alias("schoolYearSourcedId"),
            pl.format("Course {}", i).alias("title"),
            pl.format("C{}", i).alias("courseCode"),
            pl.lit("09,10").alias("grades"),
            pl.format("school-{}", i % schools).alias("orgSourcedId"),
            pl.lit(None, pl.Utf8).alias("subjects"),
            pl.lit(None, pl.Utf8).alias("subjectCodes"),
        ),
        folder / "courses.csv",
    )
    rows["classes"] = _write(
        pl.DataFrame({"sourcedId": _ids("class-", classes)}).select(
            "sourcedId",
            *blank,
            pl.format("Class {}", i).alias("title"),
            pl.lit("09").alias("grades"),
            pl.format("course-{}", i % courses).alias("courseSourcedId"),
            pl.format("{}", i).alias("classCode"),
            pl.lit("scheduled").alias("classType"),
            pl.format("Room {}", i % 40).alias("location"),
            pl.format("school-{}", (i % courses) % schools).alias("schoolSourcedId"),
            pl.when(i % 2 == 0).then(pl.lit("s1")).otherwise(pl.lit("s2")).alias("termSourcedIds"),
            pl.lit(None, pl.Utf8).alias("subjects"),
            pl.lit(None, pl.Utf8).alias("subjectCodes"),
            pl.format("{}", i % 8 + 1).alias("periods"),
        ),
        folder / "classes.csv",
    )
    people = pl.DataFrame({"sourcedId": _ids("user-", users)}).with_columns(
        (i < teachers).alias("teacher"), (i % schools).alias("school")
    )
    rows["users"] = _write(
        people.select(
            "sourcedId",
            *blank,
            pl.lit("true").alias("enabledUser"),
            pl.format("user{}", i).alias("username"),
            pl.format("{{SIS:{}}}", i).alias("userIds"),
            pl.format("Given{}", i % 997).alias("givenName"),
            pl.format("Family{}", i % 1009).alias("familyName"),
            pl.lit(None, pl.Utf8).alias("middleName"),
            pl.format("{}", i).alias("identifier"),
            pl.format("user{}@bench.example.org", i).alias("email"),
            *(pl.lit(None, pl.Utf8).alias(c) for c in ("sms", "phone", "agentSourcedIds")),
            pl.when("teacher").then(None).otherwise(pl.lit("09")).alias("grades"),
            *(
                pl.lit(None, pl.Utf8).alias(c)
                for c in (
                    "password",
                    "userMasterIdentifier",
                    "preferredGivenName",
                    "preferredMiddleName",
                    "preferredFamilyName",
                )
            ),
            pl.format("school-{}", pl.col("school")).alias("primaryOrgSourcedId"),
            pl.lit(None, pl.Utf8).alias("pronouns"),
        ),
        folder / "users.csv",
    )
    rows["roles"] = _write(
        people.select(
            pl.format("role-{}", i).alias("sourcedId"),
            *blank,
            pl.col("sourcedId").alias("userSourcedId"),
            pl.lit("primary").alias("roleType"),
            pl.when("teacher").then(pl.lit("teacher")).otherwise(pl.lit("student")).alias("role"),
            pl.lit(None, pl.Utf8).alias("beginDate"),
            pl.lit(None, pl.Utf8).alias("endDate"),
            pl.format("school-{}", pl.col("school")).alias("orgSourcedId"),
            pl.lit(None, pl.Utf8).alias("userProfileSourcedId"),
        ),
        folder / "roles.csv",
    )
    slots = people.select(
        "sourcedId", "teacher", pl.int_ranges(0, CLASSES_PER_PERSON).alias("k")
    ).explode("k")
    n = pl.int_range(0, pl.len())
    rows["enrollments"] = _write(
        slots.select(
            pl.format("enr-{}", n).alias("sourcedId"),
            *blank,
            # a teacher's six classes are their own; students spread over all classes
            pl.format(
                "class-{}",
                pl.when("teacher").then(n % classes).otherwise((n * 7919) % classes),
            ).alias("classSourcedId"),
            pl.lit("school-0").alias("schoolSourcedId"),
            pl.col("sourcedId").alias("userSourcedId"),
            pl.when("teacher").then(pl.lit("teacher")).otherwise(pl.lit("student")).alias("role"),
            pl.when("teacher").then(pl.lit("true")).otherwise(None).alias("primary"),
            pl.lit("2026-08-20").alias("beginDate"),
            pl.lit(None, pl.Utf8).alias("endDate"),
        ),
        folder / "enrollments.csv",
    )
    manifest = ["propertyName,value", "manifest.version,1.0", "oneroster.version,1.2"]
    manifest += [f"file.{f},{'bulk' if f in rows else 'absent'}" for f in FILES_12]
    (folder / "manifest.csv").write_text("\r\n".join(manifest) + "\r\n", encoding="utf-8")
    return rows


def _zip(folder: Path, out: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M users, 6M enrollments")
    parser.add_argument("--runs", type=int, default=3, help="reads of the package (median)")
    parser.add_argument("--zip", action="store_true", help="read it as a deflated zip")
    parser.add_argument("--dir", default=None, help="where to write the package (a temp dir)")
    args = parser.parse_args()
    users = int(USERS * args.scale)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        started = time.perf_counter()
        progress(f"writing a package of {users:,} users …")
        rows = generate(Path(tmp) / "package", users)
        path = Path(tmp) / "package"
        if args.zip:
            path = _zip(path, Path(tmp) / "package.zip")
        size_mb = sum(f.stat().st_size for f in (Path(tmp) / "package").iterdir()) / 2**20
        generate_s = round(time.perf_counter() - started, 1)
        connector = OneRosterCsvConnector(CsvOptions(path=str(path)), source="bench")
        walls: list[float] = []
        cpus: list[float] = []
        loads: list[float] = []
        canonical: dict[str, int] = {}
        for run in range(args.runs):
            loads.append(load_average())
            wall, cpu = time.perf_counter(), time.process_time()
            read = connector.read(path)
            walls.append(round(time.perf_counter() - wall, 2))
            cpus.append(round(time.process_time() - cpu, 2))
            canonical = {k: v.height for k, v in read.roster.items()}
            progress(f"run {run + 1}: {walls[-1]} s wall, {cpus[-1]} s CPU")
            del read
    total_rows = sum(rows.values())
    median = statistics.median(walls)
    emit(
        {
            "benchmark": "csv_import",
            "format": "zip" if args.zip else "folder",
            "users": rows["users"],
            "enrollments": rows["enrollments"],
            "csv_rows": total_rows,
            "package_mb": round(size_mb, 1),
            "generate_seconds": generate_s,
            "read_seconds": walls,
            "read_cpu_seconds": cpus,
            "median_seconds": median,
            "rows_per_s": round(total_rows / median),
            "target_seconds": 60,
            "met": median <= 60,
            "canonical_rows": canonical,
            "peak_rss_mb": peak_rss_mb(),
            "load_average_1m": loads,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
