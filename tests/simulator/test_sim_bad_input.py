"""Absurd numbers in a request get PowerSchool's 4xx answers, never a 500."""

from __future__ import annotations

import httpx
import pytest

BIG = "9" * 400


def _school(api: httpx.Client) -> str:
    school = api.get("/ws/v1/district/school").json()["schools"]["school"]
    return str((school[0] if isinstance(school, list) else school)["id"])


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/ws/v1/district/student", {"page": BIG}, "page"),
        ("/ws/v1/district/student", {"page": str(2**63)}, "page"),
        ("/ws/v1/school/{sid}/student", {"page": BIG}, "page"),
        ("/ws/v1/school/{sid}/student", {"pagesize": BIG}, "pagesize"),
        ("/ws/schema/table/students", {"page": BIG, "projection": "id"}, "page"),
        ("/ws/v1/district/student", {"q": f"id=={BIG}"}, "id"),
        ("/ws/v1/school/{sid}/student", {"q": f"id=gt={BIG}"}, "id"),
        ("/ws/schema/table/students", {"q": f"dcid=ge={BIG}", "projection": "id"}, "dcid"),
        ("/ws/schema/table/students/count", {"q": f"id==-{BIG}"}, "id"),
    ],
)
def test_out_of_range_numbers_answer_400_naming_the_field(
    api: httpx.Client, path: str, params: dict[str, str], field: str
) -> None:
    response = api.get(path.format(sid=_school(api)), params=params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["message"] == "Validation Failed"
    assert body["errors"][0]["field"] == field


@pytest.mark.parametrize(
    "path",
    [
        f"/ws/v1/student/{BIG}",
        f"/ws/v1/section/{BIG}/section_enrollment",
        f"/ws/v1/school/{BIG}/student",
        f"/ws/schema/table/students/{BIG}?projection=id",
    ],
)
def test_an_id_beyond_64_bits_names_no_record(api: httpx.Client, path: str) -> None:
    assert api.get(path).status_code == 404


def test_a_page_past_the_end_is_empty_not_an_error(api: httpx.Client) -> None:
    response = api.get("/ws/v1/district/student", params={"page": 2**31 - 1})
    assert response.status_code == 200
    assert "student" not in response.json()["students"]
