"""Fault injection and the unconfirmed behaviours, each switched on over real HTTP."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import orjson
import pytest
from ps_sim_helpers import Api

from rostersync.simulators.powerschool import Faults, SimulatorConfig


def test_control_endpoint_is_off_by_default(start: Callable[..., Api]) -> None:
    sim = start()
    assert sim.post("/_sim/faults", json={"outage": True}).status_code == 404


def test_outage_error_rate_and_reset_at_run_time(start: Callable[..., Api]) -> None:
    sim = start(SimulatorConfig(enable_control=True))
    assert sim.get("/ws/v1/district/student/count").json()["resource"]["count"] > 0
    assert sim.post("/_sim/faults", json={"outage": True}).status_code == 200
    assert sim.get("/ws/v1/district/student/count").json() == {"resource": {"count": 0}}
    page = sim.get("/ws/v1/school/1/student").json()
    assert "student" not in page["students"]
    table = sim.get("/ws/schema/table/students", params={"projection": "id"}).json()
    assert table["record"] == []
    sim.post("/_sim/faults", json={"outage": False, "error_rate": 1.0, "error_statuses": [503]})
    assert sim.get("/ws/v1/district").status_code == 503
    sim.post("/_sim/faults", json={"reset": True})
    assert sim.get("/ws/v1/district").status_code == 200
    bad = sim.post("/_sim/faults", json={"no_such_fault": 1})
    assert bad.status_code == 400


def test_expired_tokens_get_401_and_reauth_works(start: Callable[..., Api]) -> None:
    sim = start(SimulatorConfig(faults=Faults(token_max_requests=2)))
    assert sim.get("/ws/v1/district").status_code == 200
    assert sim.get("/ws/v1/district").status_code == 200
    expired = sim.get("/ws/v1/district")
    assert expired.status_code == 401
    assert (
        'error_description="The access token has expired"' in (expired.headers["WWW-Authenticate"])
    )
    fresh = httpx.post(
        f"{sim.server.url}/oauth/access_token",
        auth=("rostersync-demo", "rostersync-demo-secret"),
        data={"grant_type": "client_credentials"},
    ).json()["access_token"]
    assert fresh != sim.token
    again = sim.client.get("/ws/v1/district", headers={"Authorization": f"Bearer {fresh}"})
    assert again.status_code == 200


def test_expire_tokens_now(start: Callable[..., Api]) -> None:
    sim = start()
    sim.server.expire_tokens()
    assert sim.get("/ws/v1/district").status_code == 401


def test_token_lifetime_and_reuse(start: Callable[..., Api]) -> None:
    sim = start(SimulatorConfig(token_lifetime=120))
    again = httpx.post(
        f"{sim.server.url}/oauth/access_token",
        auth=("rostersync-demo", "rostersync-demo-secret"),
        data={"grant_type": "client_credentials"},
    ).json()
    assert again["access_token"] == sim.token  # same token until it expires
    assert 0 < int(again["expires_in"]) <= 120


def test_throttling_answers_429_with_retry_after(start: Callable[..., Api]) -> None:
    sim = start(SimulatorConfig(faults=Faults(min_interval_ms=60_000)))
    assert sim.get("/ws/v1/district").status_code == 200
    throttled = sim.get("/ws/v1/district")
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    assert "wait" in throttled.json()["message"]


def test_truncated_page_is_not_json(start: Callable[..., Api]) -> None:
    sim = start(SimulatorConfig(faults=Faults(truncate_rate=1.0)))
    response = sim.get("/ws/v1/school/1/student")
    assert response.status_code == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)


def test_pagesize_over_max_as_400_and_small_max(start: Callable[..., Api]) -> None:
    config = SimulatorConfig(pagesize_over_max="error")
    config.max_page_sizes["student"] = 7
    sim = start(config)
    assert sim.get("/ws/v1/metadata").json()["metadata"]["student_max_page_size"] == 7
    assert sim.get("/ws/v1/district/student", params={"pagesize": 8}).status_code == 400
    default = sim.get("/ws/v1/district/student").json()["students"]["student"]
    assert len(default) == 7


def test_school_filter_numbers_and_or_options(start: Callable[..., Api]) -> None:
    sim = start(SimulatorConfig(school_student_filter="all", coerce_numbers=False, fiql_or=True))
    every = sim.get("/ws/v1/school/1/student/count").json()["resource"]["count"]
    active = sim.get(
        "/ws/v1/school/1/student/count", params={"q": "school_enrollment.enroll_status==A"}
    ).json()
    assert every > active["resource"]["count"]
    school = sim.get("/ws/v1/district/school").json()["schools"]["school"]
    assert school["school_number"] == "100"
    either = sim.get(
        "/ws/v1/district/student/count",
        params={"q": "school_enrollment.enroll_status==A,school_enrollment.enroll_status==P"},
    ).json()
    both = sim.get(
        "/ws/v1/district/student/count", params={"q": "school_enrollment.enroll_status==(A,P)"}
    ).json()
    assert either == both


def test_v1_access_level_enforced(start: Callable[..., Api]) -> None:
    sim = start(SimulatorConfig(enforce_v1_access_level=True))
    assert sim.get("/ws/v1/district").status_code == 403
    assert sim.get("/ws/schema/table/students", params={"projection": "id"}).status_code == 200


def test_day_control_moves_the_district(start: Callable[..., Api]) -> None:
    from rostersync.simulators.powerschool import generate_district

    sim = start(SimulatorConfig(enable_control=True), district=generate_district("tiny", seed=9))
    before = sim.get("/ws/v1/district/student/count").json()["resource"]["count"]
    moved = sim.post("/_sim/day", json={"day": 2}).json()
    assert moved["day"] == 2
    after = sim.get("/ws/v1/district/student/count").json()["resource"]["count"]
    assert after == before + 2
    sim.server.set_day(0)
    back = sim.get("/ws/v1/district/student/count").json()["resource"]["count"]
    assert back == before
    assert sim.post("/_sim/day", json={"day": "x"}).status_code == 400
