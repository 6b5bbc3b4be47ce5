"""A small synthetic canonical roster for the OneRoster tests: one district, two schools."""

from __future__ import annotations

import datetime as dt

import polars as pl

from rostersync.model import Roster, conform, metadata_json

T0 = dt.datetime(2025, 8, 1, 12, 0, 0, 123000, tzinfo=dt.UTC)


def _common(ids: list[str]) -> dict[str, list[object]]:
    return {
        "sourcedId": ids,
        "status": ["active"] * len(ids),
        "dateLastModified": [T0] * len(ids),
        "source": ["sis"] * len(ids),
        "sourceId": [i.split("-")[-1] for i in ids],
    }


def small_roster() -> Roster:
    """Orgs, calendar, courses, classes, students, teachers, guardians, an admin, enrollments."""
    orgs = conform(
        "orgs",
        pl.DataFrame(
            {
                **_common(["org-d1", "org-s1", "org-s2"]),
                "name": ["Springfield District", "North High", "South, Middle"],
                "type": ["district", "school", "school"],
                "identifier": [None, "100", "200"],
                "parentSourcedId": [None, "org-d1", "org-d1"],
                "metadata": [None, metadata_json({"principal": "Skinner"}), None],
            }
        ),
    )
    sessions = conform(
        "academicSessions",
        pl.DataFrame(
            {
                **_common(["as-y26", "as-t1", "as-t2", "as-gp1"]),
                "title": ["2025-2026", "Fall", "Spring", "Q1"],
                "type": ["schoolYear", "term", "term", "gradingPeriod"],
                "startDate": [
                    dt.date(2025, 8, 20),
                    dt.date(2025, 8, 20),
                    dt.date(2026, 1, 5),
                    dt.date(2025, 8, 20),
                ],
                "endDate": [
                    dt.date(2026, 6, 10),
                    dt.date(2025, 12, 20),
                    dt.date(2026, 6, 10),
                    dt.date(2025, 10, 20),
                ],
                "parentSourcedId": [None, "as-y26", "as-y26", "as-t1"],
                "schoolYear": ["2026"] * 4,
                "orgSourcedId": [None, "org-s1", "org-s2", "org-s1"],
            }
        ),
    )
    courses = conform(
        "courses",
        pl.DataFrame(
            {
                **_common(["c-alg", "c-bio", "c-art"]),
                "title": ["Algebra I", "Biology", "Art"],
                "schoolYearSourcedId": ["as-y26"] * 3,
                "courseCode": ["MA101", "SC201", None],
                "grades": [["09", "10"], ["10"], None],
                "orgSourcedId": ["org-s1", "org-s1", "org-s2"],
                "subjects": [["Math"], ["Science"], None],
                "subjectCodes": [["02052"], ["03051"], None],
            }
        ),
    )
    classes = conform(
        "classes",
        pl.DataFrame(
            {
                **_common(["k-alg1", "k-bio1", "k-art1"]),
                "title": ["Algebra I - P1", 'Biology "Lab"', "Art, Studio"],
                "grades": [["09"], ["10"], None],
                "courseSourcedId": ["c-alg", "c-bio", "c-art"],
                "classCode": ["P1", "P2", None],
                "classType": ["scheduled", "scheduled", "homeroom"],
                "location": ["Room 101", None, "Studio"],
                "schoolSourcedId": ["org-s1", "org-s1", "org-s2"],
                "termSourcedIds": [["as-t1"], ["as-t1", "as-t2"], ["as-t2"]],
                "subjects": [["Math"], ["Science"], None],
                "subjectCodes": [["02052"], ["03051"], None],
                "periods": [["1"], ["2", "3"], None],
            }
        ),
    )
    users = conform(
        "users",
        pl.DataFrame(
            {
                **_common(["u-s1", "u-s2", "u-s3", "u-t1", "u-t2", "u-g1", "u-a1"]),
                "enabledUser": [True, True, False, True, True, False, True],
                "username": ["ann", "bob", "cy", "tess", "tom", "gail", "adam"],
                "userIds": [["LDAP:ann"], None, None, ["LDAP:tess", "LTI:t-1"], None, None, None],
                "givenName": ["Ann", "Bob", "Cy", "Tess", "Tom", "Gail", "Adam"],
                "familyName": ["Smith", "O'Brien", "Smithers", "Teach", "Tutor", "Smith", "Admin"],
                "middleName": ["Q", None, None, None, None, None, None],
                "preferredFirstName": ["Annie", None, None, None, None, None, None],
                "role": [
                    "student",
                    "student",
                    "student",
                    "teacher",
                    "teacher",
                    "guardian",
                    "administrator",
                ],
                "orgSourcedIds": [
                    ["org-s1"],
                    ["org-s1"],
                    ["org-s2"],
                    ["org-s1", "org-s2"],
                    ["org-s2"],
                    ["org-s1"],
                    ["org-d1"],
                ],
                "primaryOrgSourcedId": ["org-s1", "org-s1", "org-s2", "org-s1", None, None, None],
                "identifier": ["1001", "1002", "1003", None, None, None, None],
                "email": ["ann@x.org", "bob@x.org", None, "tess@x.org", None, "gail@y.org", None],
                "agentSourcedIds": [["u-g1"], None, None, None, None, ["u-s1"], None],
                "grades": [["09"], ["10"], ["07"], None, None, None, None],
                "metadata": [metadata_json({"lunch": "free"}), None, None, None, None, None, None],
            }
        ),
    )
    enrollments = conform(
        "enrollments",
        pl.DataFrame(
            {
                **_common(["e-1", "e-2", "e-3", "e-4", "e-5", "e-6"]),
                "classSourcedId": ["k-alg1", "k-alg1", "k-bio1", "k-alg1", "k-art1", "k-art1"],
                "schoolSourcedId": ["org-s1", "org-s1", "org-s1", "org-s1", "org-s2", "org-s2"],
                "userSourcedId": ["u-s1", "u-s2", "u-s1", "u-t1", "u-s3", "u-t2"],
                "role": ["student", "student", "student", "teacher", "student", "teacher"],
                "primary": [None, None, None, True, None, False],
                "teacherRole": [None, None, None, "Lead Teacher", None, "Co-Teacher"],
                "beginDate": [dt.date(2025, 8, 20)] * 6,
                "endDate": [None] * 6,
            }
        ),
    )
    demographics = conform(
        "demographics",
        pl.DataFrame(
            {
                **_common(["u-s1", "u-s2", "u-s3"]),
                "birthDate": [dt.date(2010, 3, 4), dt.date(2009, 1, 1), None],
                "sex": ["female", "male", "other"],
                "white": [True, False, None],
                "asian": [False, True, None],
                "hispanicOrLatinoEthnicity": [False, False, True],
                "cityOfBirth": ["Springfield", None, None],
            }
        ),
    )
    contacts = conform(
        "userContacts",
        pl.DataFrame(
            {
                **_common(["uc-1"]),
                "studentSourcedId": ["u-s1"],
                "contactSourcedId": ["u-g1"],
                "relationshipType": ["Mother"],
                "custodial": [True],
            }
        ),
    )
    return {
        "orgs": orgs,
        "academicSessions": sessions,
        "courses": courses,
        "classes": classes,
        "users": users,
        "enrollments": enrollments,
        "demographics": demographics,
        "userContacts": contacts,
    }
