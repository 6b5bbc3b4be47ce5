"""Bad input and bad credentials get a clear 4xx in the one error shape, never a 5xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from api_helpers import Api

from rostersync.admin.tokens import Tokens
from rostersync.store.schema import admin_tokens
from rostersync.web.api_v1._core import MAX_BODY_BYTES
from support.configs import powerschool_config


@pytest.fixture
def admin(api: Api) -> tuple[httpx.Client, str]:
    d = api.store.create_district("Input District")
    return api.client(api.account("adm", "district_admin", [d.id])), d.slug


def _error(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["message"], body
    return dict(body["error"])


def test_malformed_json_and_wrong_types_name_what_is_wrong(
    admin: tuple[httpx.Client, str],
) -> None:
    client, slug = admin
    broken = client.put(
        f"/districts/{slug}/secrets/ps",
        content=b'{"value": ',
        headers={"Content-Type": "application/json"},
    )
    assert _error(broken, 400)["code"] == "malformed_json"
    wrong = client.post(f"/districts/{slug}/clients", json={"name": 5, "scopes": "all"})
    error = _error(wrong, 422)
    paths = {p["path"] for p in error["problems"]}  # type: ignore[attr-defined]
    assert {"body.name", "body.scopes"} <= paths, error
    not_object = client.put(f"/districts/{slug}/config", json=[1, 2])
    assert _error(not_object, 422)["code"] == "invalid_request"
    limit = client.get(f"/districts/{slug}/runs", params={"limit": "many"})
    assert _error(limit, 422)["problems"][0]["path"] == "query.limit"  # type: ignore[index]
    since = client.get("/audit", params={"since": "yesterday"})
    assert "--since" in str(_error(since, 422)["message"]) or "since" in since.text
    bad_name = client.put(f"/districts/{slug}/secrets/bad name!", json={"value": "x"})
    assert _error(bad_name, 422)["code"] == "invalid_input"


def test_a_configuration_with_problems_lists_every_one_with_its_path(
    admin: tuple[httpx.Client, str],
) -> None:
    client, slug = admin
    body = {
        "sources": [{"name": "sis", "app": "powerschool", "delivery": {"url": "not a url"}}],
        "advanced": {"unknown_setting": 1},
    }
    error = _error(client.put(f"/districts/{slug}/config", json=body), 422)
    assert error["code"] == "invalid_configuration"
    problems = error["problems"]
    assert isinstance(problems, list)
    assert len(problems) >= 2, problems
    assert all(p["path"] and p["message"] for p in problems)
    assert any(p["path"].startswith("sources[0]") for p in problems), problems
    other = client.put(f"/districts/{slug}/config", json={"district": "Elsewhere", "sources": []})
    assert {
        "path": "district",
        "message": "is 'Elsewhere', but this is district 'Input District'",
    } in (
        _error(other, 422)["problems"]  # type: ignore[operator]
    )
    assert client.get(f"/districts/{slug}/config/versions").json() == []


def test_unknown_ids_are_404_and_conflicts_409(admin: tuple[httpx.Client, str]) -> None:
    client, slug = admin
    for path in (
        "/districts/nope",
        "/districts/nope/runs",
        f"/districts/{slug}/runs/99999",
        f"/districts/{slug}/runs/99999/events",
        f"/districts/{slug}/changes/99999",
        f"/districts/{slug}/config",
        f"/districts/{slug}/config/versions/7",
        f"/districts/{slug}/config/diff?a=1&b=2",
        f"/districts/{slug}/clients/nobody",
        "/audit?district=nope",
    ):
        _error(client.get(path), 404)
    for path in (
        f"/districts/{slug}/changes/99999/approve",
        f"/districts/{slug}/versions/3/rollback",
        f"/districts/{slug}/config/versions/3/restore",
        f"/districts/{slug}/clients/nobody/revoke",
    ):
        response = client.post(path)
        assert 400 <= response.status_code < 500, (path, response.text)
        _error(response, response.status_code)
    _error(client.delete(f"/districts/{slug}/secrets/none"), 404)
    started = client.post(f"/districts/{slug}/runs")
    _error(started, 404)  # no configuration to run
    revoke = client.post(f"/districts/{slug}/overrides/5/revoke", json={"reason": "x"})
    assert _error(revoke, 409)["code"] == "conflict"


def test_oversize_bodies_are_refused_unread(admin: tuple[httpx.Client, str]) -> None:
    client, slug = admin
    big = b'{"value": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = client.put(
        f"/districts/{slug}/secrets/ps", content=big, headers={"Content-Type": "application/json"}
    )
    assert _error(response, 413)["code"] == "body_too_large"

    def chunks() -> object:
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"x" * 65536

    chunked = client.put(
        f"/districts/{slug}/secrets/ps",
        content=chunks(),  # type: ignore[arg-type]
        headers={"Content-Type": "application/json"},
    )
    assert _error(chunked, 413)["code"] == "body_too_large"
    assert client.get(f"/districts/{slug}/secrets").json() == []


def test_missing_unknown_expired_and_revoked_tokens_are_401(api: Api) -> None:
    token = api.account("op", "operator")
    assert api.client(token).get("/me").status_code == 200
    anonymous = api.client(None).get("/me")
    assert _error(anonymous, 401)["message"] == "Missing API token"
    assert anonymous.headers["www-authenticate"] == "Bearer"
    with httpx.Client(base_url=api.url + "/api/v1") as raw:
        basic = raw.get("/me", headers={"Authorization": "Basic b3A6cHc="})
        assert _error(basic, 401)["message"] == "Missing API token"
        unknown = raw.get("/me", headers={"Authorization": "Bearer rst_unknown"})
        assert _error(unknown, 401)["message"] == "Unknown API token"
    expired, expired_id = Tokens(api.store, api.accounts).create("op", "old", days=1, actor="t")
    with api.store.engine.begin() as conn:
        conn.execute(
            admin_tokens.update()
            .where(admin_tokens.c.id == expired_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert "expired" in str(_error(api.client(expired).get("/me"), 401)["message"])
    revoked, revoked_id = Tokens(api.store, api.accounts).create("op", "gone", days=1, actor="t")
    assert api.client(revoked).get("/me").status_code == 200
    Tokens(api.store, api.accounts).revoke(revoked_id, actor="t")
    assert "revoked" in str(_error(api.client(revoked).get("/me"), 401)["message"])


def test_failed_tokens_are_slowed_per_address_and_audited(api: Api) -> None:
    token = api.account("op", "operator")
    with httpx.Client(base_url=api.url + "/api/v1") as raw:
        statuses = [
            raw.get("/me", headers={"Authorization": f"Bearer rst_guess{i}"}).status_code
            for i in range(5)
        ]
        assert statuses == [401, 401, 401, 401, 429], statuses
        # A valid token is not made to wait for a guesser at its address: never locked out.
        assert raw.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        throttled = raw.get("/me", headers={"Authorization": "Bearer rst_guess-again"})
        error = _error(throttled, 429)
        assert int(throttled.headers["retry-after"]) >= 1
        assert "try again in" in str(error["message"])
    with api.store.engine.connect() as conn:
        failures = conn.execute(
            sa.text("SELECT count(*) FROM audit_log WHERE action = 'api.auth_failed'")
        ).scalar_one()
    assert failures == 4
    # The wait ends on its own: a real user is never locked out for good.
    from rostersync.admin.ratelimit import MAX_DELAY, delay_after

    assert delay_after(1000) == MAX_DELAY


def test_ids_past_the_database_range_and_nul_characters_are_4xx(
    admin: tuple[httpx.Client, str],
) -> None:
    """Both were 500s: an id past 64 bits overflowed the driver, a NUL broke PostgreSQL."""
    client, slug = admin
    huge = 2**63
    _error(client.get(f"/districts/{huge}"), 404)
    for path in (
        f"/districts/{slug}/runs/{huge}",
        f"/districts/{slug}/runs/{2**31}",
        f"/districts/{slug}/config/versions/{huge}",
        f"/districts/{slug}/versions/diff?a={huge}&b=1",
    ):
        assert _error(client.get(path), 422)["code"] == "invalid_request", path
    for method, path, body in (
        ("GET", "/districts/%00", None),
        ("GET", "/audit?district=%00", None),
        ("GET", f"/districts/{slug}/clients/a%00", None),
        ("POST", f"/districts/{slug}/overrides", {"until": "2030-01-01", "reason": "a\x00"}),
        ("PUT", f"/districts/{slug}/secrets/ps", {"value": "\x00"}),
    ):
        error = _error(client.request(method, path, json=body), 422)
        assert "NUL character" in str(error["message"]), (path, error)


def test_a_district_admin_may_refer_to_stored_secrets_only(
    api: Api, admin: tuple[httpx.Client, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """env: and file: are read on the server: through the API they would hand a district admin
    the server's environment (its keys) and files, sent to a URL of the admin's choosing."""
    client, slug = admin
    body = powerschool_config(
        "http://127.0.0.1:9", monkeypatch, district="Input District", attribute_mapping=None
    )
    body["sources"][0]["delivery"]["client_secret"] = "file:/etc/passwd"
    body["notifications"] = {"webhooks": [{"url": "http://127.0.0.1:9/h", "secret": "env:HOME"}]}
    error = _error(client.put(f"/districts/{slug}/config", json=body), 422)
    assert {p["path"] for p in error["problems"]} == {  # type: ignore[attr-defined]
        "sources[0].delivery.client_secret",
        "notifications.webhooks[0].secret",
    }
    assert client.get(f"/districts/{slug}/config/versions").json() == []
    operator = api.client(api.account("op", "operator"))
    assert operator.put(f"/districts/{slug}/config", json=body).status_code == 200
    body["sources"][0]["delivery"]["client_secret"] = "store:ps"
    body["notifications"]["webhooks"][0]["secret"] = "store:hook"
    assert client.put(f"/districts/{slug}/config", json=body).status_code == 200


def test_unknown_paths_and_methods_answer_in_the_error_shape(api: Api) -> None:
    client = api.client(api.account("op", "operator"))
    assert _error(client.get("/nothing/here"), 404)["code"] == "no_such_endpoint"
    assert (
        _error(client.patch("/districts"), 404)["message"] == "No endpoint PATCH /api/v1/districts"
    )
    assert client.get("/openapi.json").status_code == 200  # the document is not shadowed
    assert client.get("/docs").status_code == 200


def test_starting_a_sync_while_another_holds_the_district_is_409(
    api: Api, admin: tuple[httpx.Client, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rostersync.schedule.locks import RunLocks

    client, slug = admin
    body = powerschool_config(
        "http://127.0.0.1:9", monkeypatch, district="Input District", attribute_mapping=None
    )
    body["sources"][0]["delivery"]["client_secret"] = "store:ps"
    assert client.put(f"/districts/{slug}/config", json=body).status_code == 200
    district = api.store.get_district(slug)
    locks = RunLocks(api.store.engine)
    lock = locks.try_acquire(district.id, "sis", trigger="manual", district_name=district.name)
    try:
        busy = client.post(f"/districts/{slug}/runs", json={})
        assert _error(busy, 409)["code"] == "conflict"
    finally:
        locks.release(lock)
    unknown = client.post(f"/districts/{slug}/runs", json={"source": "nope"})
    assert "not a source" in str(_error(unknown, 422)["message"])
    assert client.get(f"/districts/{slug}/runs").json() == []


def test_a_refused_secret_is_never_echoed(admin: tuple[httpx.Client, str]) -> None:
    client, slug = admin
    planted = "PLANTED-s3cret-value"
    for body in (
        {"value": planted * 4000},  # past the 64 KiB a secret may hold
        {"value": planted, "extra": planted},
        {"value": [planted]},
    ):
        response = client.put(f"/districts/{slug}/secrets/ps", json=body)
        _error(response, 422)
        assert planted not in response.text, response.text
    assert client.get(f"/districts/{slug}/secrets").json() == []
