"""2-way sync: a mass grade change by one app (more than 30 % of a class's written scores
within an hour) is held for approval, like a roster change over the threshold; approving it
lets the next write-back send exactly those changes."""

from __future__ import annotations

import pytest
from gb_served import GB12, Served, district_config

from rostersync.config import validate_config
from rostersync.errors import ConfigurationError
from rostersync.sync.writeback import write_back
from rostersync.sync.writeback_holds import MASS_CHANGE_MIN, decide_hold, list_holds


def test_a_mass_change_is_held_until_approved(served: Served) -> None:
    body = district_config(served.sim.url)
    body["sources"][0]["sync_mode"] = "two_way"
    config = validate_config(body, "gradebook district")
    cid, students = served.class_with_students()
    assert len(students) >= MASS_CHANGE_MIN * 2
    served.put(f"{GB12}/categories/h-cat", {"category": {"title": "Test"}})
    item = {
        "title": "Midterm",
        "assignDate": "2026-12-01T08:00:00Z",
        "dueDate": "2026-12-02T08:00:00Z",
        "class": {"sourcedId": cid},
        "category": {"sourcedId": "h-cat"},
        "resultValueMax": 100,
    }
    assert served.put(f"{GB12}/lineItems/h-li", {"lineItem": item}).status_code == 201

    def grade(n: int, value: int) -> None:
        result = {
            "lineItem": {"sourcedId": "h-li"},
            "student": {"sourcedId": students[n]},
            "scoreStatus": "fully graded",
            "score": value,
            "scoreDate": "2026-12-02",
        }
        assert served.put(f"{GB12}/results/h-r{n}", {"result": result}).status_code in (200, 201)

    for n in range(len(students)):
        grade(n, 70)
    first = write_back(served.store, config, served.settings)
    assert first.scores_written == len(students)
    assert first.held == []
    # a few corrections are normal and go through
    grade(0, 71)
    assert write_back(served.store, config, served.settings).scores_written == 1
    # then the app rewrites half the class at once: held, nothing of it written
    half = len(students) // 2
    for n in range(1, half + 1):
        grade(n, 10)
    held = write_back(served.store, config, served.settings)
    assert held.scores_written == 0
    (reason,) = held.held
    assert f"changed {half} of {len(students)} scores" in reason
    (hold,) = [h for h in list_holds(served.store, served.district_id) if h["decision"] is None]
    assert (hold["classSourcedId"], hold["changed"]) == (cid, half)
    _, scores = served.ps_gradebook()
    assert sorted(set(scores.values())) == ["70", "71"]
    again = write_back(served.store, config, served.settings)
    assert again.scores_written == 0  # still held, and not recorded twice
    assert len(list_holds(served.store, served.district_id)) == 1
    with pytest.raises(ConfigurationError):
        decide_hold(served.store, served.district_id, hold["id"], "maybe", "admin@district")
    decide_hold(served.store, served.district_id, hold["id"], "approved", "admin@district")
    released = write_back(served.store, config, served.settings)
    assert (released.scores_written, released.held) == (half, [])
    _, scores = served.ps_gradebook()
    assert sorted(scores.values()).count("10") == half
    with pytest.raises(ConfigurationError, match="no pending"):
        decide_hold(served.store, served.district_id, hold["id"], "approved", "admin@district")
