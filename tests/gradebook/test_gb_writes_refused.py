"""Bad gradebook writes get 400 with the imsx payload naming the field, nothing stored; scopes
are enforced per API client; sharing rules hide classes and students from writes and reads."""

from __future__ import annotations

from typing import Any

import pytest
from gb_served import GB12, SCOPE12, V11, Served

from conformance.conformance_models import status_errors


def _minor(body: dict[str, Any]) -> str:
    return str(body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"])


def _refused(resp: Any, *fields: str, code: str = "invaliddata", status: int = 400) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert status_errors("1.2", body) == []
    assert _minor(body) == code
    text = str(body["imsx_description"])
    for name in fields:
        assert name in text, (name, text)
    return text


@pytest.fixture(scope="module")
def setup(served: Served) -> dict[str, Any]:
    cid, students = served.class_with_students(2)
    assert served.put(f"{GB12}/categories/c-bad", {"category": {"title": "T"}}).status_code in (
        200,
        201,
    )
    item = {
        "title": "Essay",
        "assignDate": "2026-12-01T08:00:00Z",
        "dueDate": "2026-12-09T08:00:00Z",
        "class": {"sourcedId": cid},
        "category": {"sourcedId": "c-bad"},
        "resultValueMin": 0,
        "resultValueMax": 20,
    }
    assert served.put(f"{GB12}/lineItems/li-bad", {"lineItem": item}).status_code in (200, 201)
    return {"cid": cid, "students": students, "item": item}


def _stored(served: Served, kind: str, sid: str) -> int:
    return served.get(f"{GB12}/{kind}/{sid}").status_code


def test_a_line_item_with_bad_fields_names_each(served: Served, setup: dict[str, Any]) -> None:
    bad = {
        **setup["item"],
        "assignDate": "yesterday",
        "class": {"sourcedId": "no-such-class"},
        "category": {"sourcedId": "no-such-category"},
        "resultValueMax": "ten",
        "colour": "red",
    }
    text = _refused(
        served.put(f"{GB12}/lineItems/li-x", {"lineItem": bad}),
        "lineItem.assignDate",
        "lineItem.class",
        "lineItem.category",
        "lineItem.resultValueMax",
        "lineItem.colour",
    )
    assert "metadata" in text  # says where vendor data goes
    assert _stored(served, "lineItems", "li-x") == 404


def test_required_fields_and_ranges(served: Served, setup: dict[str, Any]) -> None:
    item = {k: v for k, v in setup["item"].items() if k != "title"}
    _refused(served.put(f"{GB12}/lineItems/li-y", {"lineItem": item}), "lineItem.title")
    item = {**setup["item"], "resultValueMin": 30}
    _refused(served.put(f"{GB12}/lineItems/li-y", {"lineItem": item}), "resultValueMin")
    item = {**setup["item"], "dueDate": "2026-11-01T00:00:00Z"}
    _refused(served.put(f"{GB12}/lineItems/li-y", {"lineItem": item}), "dueDate")
    item = {**setup["item"], "school": {"sourcedId": "some-other-school"}}
    _refused(served.put(f"{GB12}/lineItems/li-y", {"lineItem": item}), "lineItem.school")
    item = {**setup["item"], "sourcedId": "li-other"}
    _refused(served.put(f"{GB12}/lineItems/li-y", {"lineItem": item}), "lineItem.sourcedId")
    assert _stored(served, "lineItems", "li-y") == 404


def test_results_are_checked_against_line_item_student_and_scale(
    served: Served, setup: dict[str, Any]
) -> None:
    cid, students = setup["cid"], setup["students"]
    base = {
        "lineItem": {"sourcedId": "li-bad"},
        "student": {"sourcedId": students[0]},
        "scoreStatus": "fully graded",
        "score": 15,
        "scoreDate": "2026-12-02",
    }

    def put(**change: Any) -> Any:
        return served.put(f"{GB12}/results/res-x", {"result": {**base, **change}})

    _refused(put(scoreStatus="graded"), "result.scoreStatus", "fully graded")
    _refused(put(score="15"), "result.score")
    _refused(put(score=-1), "result.score", "resultValueMin")
    _refused(put(scoreDate="02/12/2026"), "result.scoreDate")
    _refused(put(lineItem={"sourcedId": "nope"}), "result.lineItem")
    _refused(put(student={"sourcedId": served.student_not_in(cid)}), "result.student", "enrolled")
    teacher = served.roster["users"].filter(served.roster["users"]["role"] == "teacher")
    _refused(put(student={"sourcedId": teacher["sourcedId"][0]}), "result.student")
    _refused(put(inProgress="yes"), "result.inProgress")
    _refused(put(scoreScale={"sourcedId": "no-scale"}), "result.scoreScale")
    scale = {
        "title": "Letters",
        "type": "letter",
        "class": {"sourcedId": cid},
        "scoreScaleValue": [
            {"itemValueLHS": "A", "itemValueRHS": "90"},
            {"itemValueLHS": "B", "itemValueRHS": "80"},
        ],
    }
    assert served.put(f"{GB12}/scoreScales/ss-1", {"scoreScale": scale}).status_code in (200, 201)
    _refused(put(scoreScale={"sourcedId": "ss-1"}, textScore="Z"), "result.textScore", "A, B")
    assert _stored(served, "results", "res-x") == 404
    ok = put(scoreScale={"sourcedId": "ss-1"}, textScore="A", late=True)
    assert ok.status_code == 201, ok.text
    assert ok.json()["result"]["late"] == "true"


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[]", b'{"lineItem": 5}', b'"text"'],
    ids=["broken", "array", "number", "string"],
)
def test_a_body_that_is_no_object_is_refused(served: Served, raw: bytes) -> None:
    headers = {"Authorization": f"Bearer {served.tokens['lms']}"}
    resp = served.http.put(f"{GB12}/lineItems/li-z", content=raw, headers=headers)
    _refused(resp)


def test_a_bulk_post_stores_all_or_nothing(served: Served, setup: dict[str, Any]) -> None:
    cid = setup["cid"]
    good = {k: v for k, v in setup["item"].items() if k != "class"}
    body = {
        "lineItems": [
            {**good, "sourcedId": "bulk-1"},
            {**good, "sourcedId": "bulk-2", "dueDate": "never"},
        ]
    }
    resp = served.call("POST", f"{GB12}/classes/{cid}/lineItems", json=body)
    _refused(resp, "lineItems[1].dueDate")
    assert _stored(served, "lineItems", "bulk-1") == 404
    body["lineItems"][1]["dueDate"] = good["dueDate"]
    resp = served.call("POST", f"{GB12}/classes/{cid}/lineItems", json=body)
    assert resp.status_code == 201, resp.text
    assert resp.json() == {
        "sourcedIdPairs": [
            {"suppliedSourcedId": "bulk-1", "allocatedSourcedId": "bulk-1"},
            {"suppliedSourcedId": "bulk-2", "allocatedSourcedId": "bulk-2"},
        ]
    }
    # the scope of a bulk POST is createpost; a client without it is refused
    resp = served.call("POST", f"{GB12}/classes/{cid}/lineItems", client="reader", json=body)
    _refused(resp, "gradebook.createpost", code="forbidden", status=403)


def test_scopes_are_enforced_per_client(served: Served, setup: dict[str, Any]) -> None:
    assert served.get(f"{GB12}/lineItems/li-bad", client="reader").status_code == 200
    resp = served.put(f"{GB12}/lineItems/li-bad", {"lineItem": setup["item"]}, client="reader")
    _refused(resp, "gradebook.createput", code="forbidden", status=403)
    resp = served.call("DELETE", f"{GB12}/lineItems/li-bad", client="reader")
    _refused(resp, "gradebook.delete", code="forbidden", status=403)
    resp = served.get(f"{GB12}/lineItems", client="roster_only")
    _refused(resp, "gradebook.readonly", code="forbidden", status=403)
    resp = served.http.get(f"{GB12}/lineItems")
    _refused(resp, code="unauthorisedrequest", status=401)
    assert served.get(f"{GB12}/lineItems/li-bad").status_code == 200  # nothing was deleted


def test_the_token_endpoint_grants_gradebook_scopes(served: Served) -> None:
    """Requested gradebook scopes are granted (not dropped); a token asked for read-only
    gradebook access cannot write even though its client could."""
    wanted = f"{SCOPE12}gradebook.readonly {SCOPE12}roster-core.readonly"
    resp = served.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": wanted},
        auth=served.credentials["lms"],
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["scope"] == wanted
    token = resp.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert served.http.get(f"{GB12}/categories", headers=headers).status_code == 200
    body = {"category": {"title": "Nope"}}
    refused = served.http.put(f"{GB12}/categories/c-ro", json=body, headers=headers)
    _refused(refused, "gradebook.createput", code="forbidden", status=403)


def test_sharing_rules_apply_to_writes_and_reads(served: Served, setup: dict[str, Any]) -> None:
    cid, students = setup["cid"], setup["students"]
    item = {**setup["item"], "title": "Hidden"}
    resp = served.put(f"{GB12}/lineItems/li-hidden", {"lineItem": item}, client="elsewhere")
    _refused(resp, "lineItem.class", "this client may see")
    assert served.put(f"{GB12}/lineItems/li-hidden", {"lineItem": item}).status_code in (200, 201)
    assert served.get(f"{GB12}/lineItems/li-hidden", client="elsewhere").status_code == 404
    listed = served.get(f"{GB12}/lineItems", client="elsewhere").json()["lineItems"]
    assert listed == []
    resp = served.get(f"{GB12}/classes/{cid}/lineItems", client="elsewhere")
    _refused(resp, code="unknownobject", status=404)
    resp = served.call("DELETE", f"{GB12}/lineItems/li-hidden", client="elsewhere")
    _refused(resp, code="unknownobject", status=404)
    # a client that sees the class but no students sees line items, writes and reads no result
    assert served.get(f"{GB12}/lineItems/li-hidden", client="no_students").status_code == 200
    result = {
        "lineItem": {"sourcedId": "li-hidden"},
        "student": {"sourcedId": students[0]},
        "scoreStatus": "submitted",
        "scoreDate": "2026-12-02",
    }
    resp = served.put(f"{GB12}/results/res-hidden", {"result": result}, client="no_students")
    _refused(resp, "result.student", "this client may see")
    assert served.put(f"{GB12}/results/res-hidden", {"result": result}).status_code == 201
    assert served.get(f"{GB12}/results/res-hidden", client="no_students").status_code == 404
    assert served.get(f"{GB12}/results/res-hidden").status_code == 200


def test_unknown_paths_and_methods_answer_the_spec_payload(served: Served) -> None:
    _refused(served.get(f"{GB12}/gradebooks"), code="unknownobject", status=404)
    _refused(served.call("PATCH", f"{GB12}/lineItems/li-bad"), code="unknownobject", status=404)
    old = served.get(f"{V11}/lineItems/does-not-exist")
    assert old.status_code == 404
    assert status_errors("1.1", old.json()) == []


def test_a_wrong_method_on_a_1p1_gradebook_path_names_the_allowed_ones(served: Served) -> None:
    resp = served.call("POST", f"{V11}/lineItems/li-bad", json={})
    assert resp.status_code == 405
    assert status_errors("1.1", resp.json()) == []
    text = resp.json()["statusInfoSet"][0]["imsx_description"]
    assert "PUT" in text
    assert "DELETE" in text
