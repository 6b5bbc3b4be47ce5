"""Benchmark of the rule pipeline on a mega district's canonical tables; prints JSON.

    .venv/bin/python bench/pipeline.py              # ≈1M students, 1.5M contacts, 6M enrollments
    .venv/bin/python bench/pipeline.py --scale 0.1  # a tenth of that

Tables are generated directly (vectorised Polars, no connector, no simulator). The configuration
turns every stage on: schools mapping (a list), attribute mapping with three transforms per
entity, contact name parsing, data requirements, ten filter rules, SIS prefix, uniqueness
domains, a second source (the directory) merged by master fields, and the referential cleanup.
Prints seconds per stage, records in/out and peak RSS.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import polars as pl

from _common import Phases, emit, load_average, machine, peak_rss_mb
from rostersync.config import DistrictConfig, validate_config
from rostersync.model import ENTITIES, Roster, conform
from rostersync.pipeline import SOURCE_STAGES, complete, master_field_merge, referential_cleanup
from rostersync.pipeline._report import RunReport, StageReport

GIVEN = [
    "Ana",
    "Élodie",
    "Bo",
    "Chen",
    "Maria",
    "José",
    "Liam",
    "Noah",
    "Olivia",
    "Emma",
    "Ava",
    "Mia",
    "Lucas",
    "Ethan",
    "Zoë",
    "Søren",
    "Aaliyah",
    "Kai",
    "Nora",
    "Leo",
]
FAMILY = [
    "Smith",
    "García",
    "Nguyen",
    "Johnson",
    "Müller",
    "O'Brien",
    "Kim",
    "Patel",
    "Brown",
    "Lopez",
    "Davis",
    "Wilson",
    "Martin",
    "Lee",
    "Clark",
    "Young",
    "TEST",
]
GRADES = ["KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]


def pick(values: list[str], ix: pl.Series, salt: int) -> pl.Series:
    """values[(ix * salt) mod len], vectorised."""
    return pl.Series(values).gather(((ix * salt + salt) % len(values)).cast(pl.UInt32))


def ids(prefix: str, ix: pl.Series) -> pl.Series:
    """prefix + the index, as text."""
    return prefix + ix.cast(pl.Utf8)


def build(scale: float) -> tuple[Roster, Roster]:
    """The SIS roster and the directory (AD) roster of a synthetic district."""
    n_st = int(1_000_000 * scale)
    n_ct = int(1_500_000 * scale)
    n_sf = int(70_000 * scale)
    n_cl = int(300_000 * scale)
    n_en = int(6_000_000 * scale)
    n_sc = max(3, int(300 * scale))
    n_co = max(10, int(30_000 * scale))

    sc = pl.int_range(0, n_sc, eager=True)
    orgs = pl.DataFrame(
        {
            "sourcedId": ["d", *ids("s", sc).to_list()],
            "status": "active",
            "source": "sis",
            "sourceId": ["d", *(sc + 100).cast(pl.Utf8).to_list()],
            "name": ["District", *("School " + sc.cast(pl.Utf8)).to_list()],
            "type": ["district"] + ["school"] * n_sc,
            "identifier": [None, *(sc + 100).cast(pl.Utf8).to_list()],
            "parentSourcedId": [None] + ["d"] * n_sc,
        }
    )
    sessions = pl.DataFrame(
        {
            "sourcedId": ["y25", "y26", "t26a", "t26b", "t25"],
            "status": "active",
            "source": "sis",
            "sourceId": ["y25", "y26", "t26a", "t26b", "t25"],
            "title": ["2024-2025", "2025-2026", "S1", "S2", "S1"],
            "type": ["schoolYear", "schoolYear", "term", "term", "term"],
            "startDate": pl.Series(
                ["2024-08-01", "2025-08-01", "2025-08-01", "2026-01-05", "2024-08-01"]
            ).str.to_date(),
            "endDate": pl.Series(
                ["2025-06-30", "2026-06-30", "2025-12-20", "2026-06-30", "2024-12-20"]
            ).str.to_date(),
            "parentSourcedId": [None, None, "y26", "y26", "y25"],
            "schoolYear": ["2025", "2026", "2026", "2026", "2025"],
        }
    )
    co = pl.int_range(0, n_co, eager=True)
    courses = pl.DataFrame(
        {
            "sourcedId": ids("c", co),
            "status": "active",
            "source": "sis",
            "sourceId": ids("c", co),
            "title": pick(["Algebra", "Biology", "History", "Art", "Test course"], co, 7),
            "schoolYearSourcedId": pl.Series(["y26"] * n_co),
            "courseCode": ids("M", co),
            "orgSourcedId": ids("s", co % n_sc),
        }
    ).with_columns(grades=pl.concat_list(pick(GRADES, co, 3)))
    cl = pl.int_range(0, n_cl, eager=True)
    classes = pl.DataFrame(
        {
            "sourcedId": ids("k", cl),
            "status": "active",
            "source": "sis",
            "sourceId": ids("k", cl),
            "title": pick(["Algebra", "Biology", "History", "Art"], cl, 5) + " " + cl.cast(pl.Utf8),
            "courseSourcedId": ids("c", cl % n_co),
            "classCode": cl.cast(pl.Utf8),
            "classType": "scheduled",
            "location": pl.Series([None, "R1", "R2", "R3"]).gather((cl % 4).cast(pl.UInt32)),
            "schoolSourcedId": ids("s", (cl % n_co) % n_sc),
        }
    ).with_columns(
        termSourcedIds=pl.when(pl.col("classCode").str.ends_with("7"))
        .then(pl.concat_list(pl.lit("t25")))
        .otherwise(pl.concat_list(pl.lit("t26a"))),
        grades=pl.concat_list(pick(GRADES, cl, 3)),
    )

    st = pl.int_range(0, n_st, eager=True)
    given, family = pick(GIVEN, st, 7), pick(FAMILY, st // 3, 11)
    email = (
        given.str.to_lowercase()
        + "."
        + family.str.to_lowercase()
        + st.cast(pl.Utf8)
        + "@k12.example.org"
    )
    status = pl.Series(["A", "A", "A", "A", "A", "A", "A", "A", "P", "T"]).gather(
        (st % 10).cast(pl.UInt32)
    )
    students = pl.DataFrame(
        {
            "sourcedId": ids("st", st),
            "status": "active",
            "source": "sis",
            "sourceId": ids("st", st),
            "enabledUser": True,
            "username": ids("st", st),
            "givenName": given,
            "familyName": family,
            "role": "student",
            "identifier": (st + 100000).cast(pl.Utf8),
            "email": email,
            "metadata": '{"U_DEF_EXT_STUDENTS.school_email":"'
            + email.str.to_uppercase()
            + '","enroll_status":"'
            + status
            + '"}',
        }
    ).with_columns(
        orgSourcedIds=pl.concat_list(ids("s", st % n_sc)),
        grades=pl.concat_list(pick(GRADES, st, 5)),
        agentSourcedIds=pl.concat_list(ids("p", (st * 3) // 2 % max(n_ct, 1))),
    )
    ct = pl.int_range(0, n_ct, eager=True)
    legacy = (ct % 3) == 0
    cgiven, cfamily = pick(GIVEN, ct, 13), pick(FAMILY, ct // 2, 17)
    contacts = pl.DataFrame(
        {
            "sourcedId": ids("p", ct),
            "status": "active",
            "source": "sis",
            "sourceId": ids("p", ct),
            "enabledUser": True,
            "username": ids("p", ct),
            "role": pl.Series(["guardian", "parent"]).gather((ct % 2).cast(pl.UInt32)),
            "email": cgiven.str.to_lowercase() + ct.cast(pl.Utf8) + "@mail.example",
        }
    ).with_columns(
        givenName=pl.when(legacy).then(None).otherwise(cgiven),
        familyName=pl.when(legacy).then(None).otherwise(cfamily),
        metadata=pl.when(legacy).then('{"legacyContactName":"' + cfamily + ", " + cgiven + ' Jr"}'),
    )
    sf = pl.int_range(0, n_sf, eager=True)
    staff = pl.DataFrame(
        {
            "sourcedId": ids("t", sf),
            "status": "active",
            "source": "sis",
            "sourceId": ids("t", sf),
            "enabledUser": True,
            "username": ids("t", sf),
            "givenName": pick(GIVEN, sf, 3),
            "familyName": pick(FAMILY, sf, 5),
            "role": pl.Series(["teacher"] * 9 + ["administrator"]).gather(
                (sf % 10).cast(pl.UInt32)
            ),
            "email": None,
        }
    ).with_columns(orgSourcedIds=pl.concat_list(ids("s", sf % n_sc)))
    # 0.5% of students come twice under another ID (a re-entered record)
    dup = students.filter(pl.col("identifier").str.ends_with("37")).with_columns(
        sourcedId="dup" + pl.col("sourcedId")
    )
    users = pl.concat([conform("users", f) for f in (students, dup, contacts, staff)])

    en = pl.int_range(0, n_en, eager=True)
    student_enr = pl.DataFrame(
        {
            "sourcedId": ids("e", en),
            "classSourcedId": ids("k", (en * 7919) % n_cl),
            "schoolSourcedId": "s0",
            "userSourcedId": ids("st", (en // 6) % n_st),
            "role": "student",
        }
    )
    teacher_enr = pl.DataFrame(
        {
            "sourcedId": ids("te", cl),
            "classSourcedId": ids("k", cl),
            "schoolSourcedId": "s0",
            "userSourcedId": ids("t", cl % max(1, n_sf - n_sf // 10)),
            "role": "teacher",
            "primary": (cl % 10) != 0,
        }
    )
    common = {"status": "active", "source": "sis"}
    enrollments = pl.concat([student_enr, teacher_enr], how="diagonal").with_columns(
        **{k: pl.lit(v) for k, v in common.items()}, sourceId=pl.col("sourcedId")
    )
    links = pl.DataFrame(
        {
            "sourcedId": ids("l", st),
            "studentSourcedId": ids("st", st),
            "contactSourcedId": ids("p", (st * 3) // 2 % max(n_ct, 1)),
            "relationshipType": "Mother",
        }
    ).with_columns(**{k: pl.lit(v) for k, v in common.items()}, sourceId=pl.col("sourcedId"))
    demographics = pl.DataFrame(
        {
            "sourcedId": ids("st", st),
            "sex": pl.Series(["male", "female", "M", "F"]).gather((st % 4).cast(pl.UInt32)),
        }
    ).with_columns(**{k: pl.lit(v) for k, v in common.items()}, sourceId=pl.col("sourcedId"))
    sis = {
        "orgs": conform("orgs", orgs),
        "academicSessions": conform("academicSessions", sessions),
        "courses": conform("courses", courses),
        "classes": conform("classes", classes),
        "users": users,
        "enrollments": conform("enrollments", enrollments),
        "userContacts": conform("userContacts", links),
        "demographics": conform("demographics", demographics),
    }
    ad_staff = staff.select(
        "sourcedId",
        "status",
        "sourceId",
        "enabledUser",
        "username",
        "givenName",
        "familyName",
        "role",
    ).with_columns(source=pl.lit("ad"), email=pl.col("username") + "@staff.example.org")
    ad = complete({"users": conform("users", ad_staff)})
    return complete(sis), ad


def _config(n_schools: int) -> DistrictConfig:
    people_map = {
        "email": {"field": "email", "transforms": ["trim", "lower", {"default": "none"}]},
    }
    sis = {
        "name": "sis",
        "app": "powerschool",
        "delivery": {"url": "http://127.0.0.1:8765", "client_id": "x", "client_secret": "env:X"},
        "advanced": {"sis_prefix": "ps-", "sync_co_teachers": False, "multiple_sources": True},
        "schools_mapping": [{"source_id": str(100 + i)} for i in range(n_schools - 1)],
        "attribute_mapping": {
            "student": {
                "email": {
                    "field": "U_DEF_EXT_STUDENTS.school_email",
                    "transforms": [
                        "trim",
                        "lower",
                        {"regex_replace": {"pattern": "@k12\\.", "new": "@"}},
                    ],
                },
                "username": {
                    "field": "U_DEF_EXT_STUDENTS.school_email",
                    "transforms": ["lower", {"regex_extract": "^([^@]+)"}, "trim"],
                },
                "sex": {
                    "field": "sex",
                    "transforms": [
                        "upper",
                        {
                            "value_map": {
                                "M": "male",
                                "F": "female",
                                "MALE": "male",
                                "FEMALE": "female",
                            }
                        },
                        "lower",
                    ],
                },
            },
            "teacher": {
                **people_map,
                "preferredFirstName": {
                    "field": "givenName",
                    "transforms": ["trim", "title", "upper"],
                },
            },
            "contact": people_map,
            "course": {
                "title": {
                    "field": "title",
                    "transforms": ["trim", "title", {"replace": {"old": "  ", "new": " "}}],
                }
            },
            "class": {
                "location": {
                    "field": "location",
                    "transforms": ["trim", "upper", {"default": "TBD"}],
                }
            },
        },
        "data_requirements": {
            "student": {"email": "skip", "birthDate": "report"},
            "class": {"location": "report"},
        },
        "filter_rules": {
            "student": [
                {"template": "active_students_only"},
                {"template": "exclude_pre_registered"},
                {"template": "exclude_test_records"},
                {"template": "grade_range", "min_grade": "KG", "max_grade": "12"},
                {
                    "exclude": {
                        "all": [
                            {"attribute": "metadata.enroll_status", "op": "equals", "value": "T"},
                            {"attribute": "grades", "op": "in", "value": ["12"]},
                        ]
                    }
                },
            ],
            "teacher": [{"template": "teachers_with_class"}],
            "contact": [{"template": "contacts_of_synced_students"}],
            "calendar": [{"template": "current_school_year_only"}],
            "class": [{"template": "current_school_year_only"}],
            "course": [{"exclude": {"attribute": "title", "op": "starts_with", "value": "Test"}}],
        },
        "uniqueness_domains": {"student": ["givenName", "familyName", "email"]},
    }
    ad = {
        "name": "ad",
        "app": "ldap",
        "delivery": {"url": "http://ad.example", "client_id": "x", "client_secret": "env:Y"},
        "advanced": {"sis_prefix": "ps-"},
    }
    return validate_config(
        {
            "district": "Mega",
            "sources": [sis, ad],
            "master_fields": {"users": {"email": ["ad", "sis"]}},
        },
        "bench",
    )


def run(scale: float) -> dict[str, Any]:
    phases = Phases()
    with phases("generate"):
        sis, ad = build(scale)
    config = _config(sis["orgs"].height - 1)
    reports: list[StageReport] = []
    processed: dict[str, Roster] = {}
    records_in = {n: sis[n].height + ad[n].height for n in ENTITIES}
    start, cpu_start = time.perf_counter(), time.process_time()
    for source, tables in (("sis", sis), ("ad", ad)):
        current = tables
        for stage in SOURCE_STAGES:
            with phases(f"{source}.{stage.__name__}"):
                current, report = stage(current, config.source(source))
            reports.append(report)
        processed[source] = current
    with phases("master_fields"):
        merged, report = master_field_merge(processed, config)
    reports.append(report)
    with phases("referential_cleanup"):
        final, report = referential_cleanup(merged)
    reports.append(report)
    total, total_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    run_report = RunReport(reports, records_in, {n: final[n].height for n in ENTITIES})
    summary = run_report.summary()
    return {
        "benchmark": "pipeline",
        "scale": scale,
        "machine": machine(),
        "polars_threads": pl.thread_pool_size(),
        "load_average_1m": load_average(),
        "pipeline_seconds": round(total, 2),
        # CPU seconds of this process (all threads): what the stages cost when the machine is
        # shared and wall-clock time mostly measures waiting for a core
        "pipeline_cpu_seconds": round(total_cpu, 2),
        "phase_seconds": phases.seconds,
        "phase_cpu_seconds": phases.cpu_seconds,
        "records_in": records_in,
        "records_out": run_report.records_out,
        "report_rows": run_report.records.height,
        "report_by_action": {
            a: sum(row[a] for row in summary.values())
            for a in ("skipped", "reported", "filtered", "merged", "removed")
        },
        "records_per_second": round(sum(records_in.values()) / total),
        "peak_rss_mb": peak_rss_mb(),
        "targets": {"pipeline_seconds": 30, "peak_rss_mb": 6144},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = ≈1M students")
    args = parser.parse_args()
    emit(run(args.scale))


if __name__ == "__main__":
    main()
