"""2-way sync under PowerSchool faults: 500/503 answers and a token that expires mid-way are
retried with backoff, every score arrives once, and a rerun finds nothing left to write;
OneRoster 1.1 clients write line items and results too."""

from __future__ import annotations

import dataclasses

from gb_served import GB12, V11, Served, district_config

from rostersync.config import validate_config
from rostersync.sync.writeback import write_back


def test_faults_are_retried_and_nothing_is_written_twice(served: Served) -> None:
    cid, students = served.class_with_students()
    assert served.put(f"{GB12}/categories/f-cat", {"category": {"title": "Quiz"}}).status_code in (
        200,
        201,
    )
    # a OneRoster 1.1 client: gradingPeriod, no school, the 1.1 shapes
    item = {
        "title": "Pop quiz",
        "assignDate": "2026-12-01T08:00:00Z",
        "dueDate": "2026-12-01T09:00:00Z",
        "class": {"sourcedId": cid},
        "category": {"sourcedId": "f-cat"},
        "gradingPeriod": {"sourcedId": served.term_of(cid)},
        "resultValueMin": 0,
        "resultValueMax": 5,
    }
    resp = served.put(f"{V11}/lineItems/f-li", {"lineItem": item})
    assert resp.status_code == 201, resp.text
    for n, student in enumerate(students):
        result = {
            "lineItem": {"sourcedId": "f-li"},
            "student": {"sourcedId": student},
            "scoreStatus": "fully graded",
            "score": n % 6,
            "scoreDate": "2026-12-01",
        }
        resp = served.put(f"{V11}/results/f-r{n}", {"result": result})
        assert resp.status_code == 201, resp.text
    body = district_config(served.sim.url)
    body["sources"][0]["sync_mode"] = "two_way"
    body["sources"][0]["connector"].update(max_retries=12, backoff_max_seconds=0.05)
    config = validate_config(body, "gb")
    sim = served.sim
    before = sim.config.faults
    sim.config.faults = dataclasses.replace(
        before, error_rate=0.35, error_statuses=(500, 503), token_max_requests=7, seed=4
    )
    try:
        report = write_back(served.store, config, served.settings)
    finally:
        sim.config.faults = before
    assert (report.assignments_created, report.scores_written) == (1, len(students)), report
    assignments, scores = served.ps_gradebook()
    assert len(assignments) == 1
    (ident,) = assignments
    expected = {(ident, int(s.split("-")[1])): str(n % 6) for n, s in enumerate(students)}
    assert scores == expected
    again = write_back(served.store, config, served.settings)
    assert (again.assignments_created, again.scores_written) == (0, 0)
    assert again.unchanged == 1 + len(students)
