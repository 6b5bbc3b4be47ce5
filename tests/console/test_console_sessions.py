"""Browser sessions and CSRF over real HTTP: cookie flags, rotation at login, logout, idle and
absolute expiry, forms without their token refused (403, audited), the login backoff, and a
district admin who cannot reach another district's pages."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from console_helpers import PASSWORD, Console

from rostersync.admin.errors import AuthenticationFailed
from rostersync.admin.sessions import ABSOLUTE, IDLE, Sessions, session_hash
from rostersync.clock import utcnow
from rostersync.store.schema import admin_sessions

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _login_token(http: httpx.Client) -> str:
    page = http.get("/console/login")
    assert page.status_code == 200
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


def _sign_in(http: httpx.Client, name: str = "olive", password: str = PASSWORD) -> httpx.Response:
    token = _login_token(http)
    return http.post(
        "/console/login",
        data={"csrf_token": token, "name": name, "password": password, "next": "/console/"},
    )


def _csrf(http: httpx.Client) -> str:
    found = CSRF.search(http.get("/console/account").text)
    assert found is not None
    return found.group(1)


def test_session_cookie_is_httponly_lax_and_rotated_at_login(console: Console) -> None:
    with console.http() as http:
        first = _sign_in(http)
        assert first.status_code == 303
        assert first.headers["location"] == "/console/"
        cookie = first.headers["set-cookie"]
        assert "rostersync_session=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Path=/" in cookie
        old = http.cookies["rostersync_session"]
        page = http.get("/console/account")
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        # Signing in again (same browser) gives a new id and ends the old one.
        assert _sign_in(http).status_code == 303
        new = http.cookies["rostersync_session"]
        assert new != old
    with console.http() as stale:
        stale.cookies.set("rostersync_session", old)
        answer = stale.get("/console/account")
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/console/login?next=")
    # Only the hash of the id is stored.
    with console.store.engine.connect() as conn:
        stored = set(
            conn.execute(
                admin_sessions.select().with_only_columns(admin_sessions.c.id_hash)
            ).scalars()
        )
    assert stored == {session_hash(new)}


def test_logout_ends_the_session_at_once(console: Console) -> None:
    with console.http() as http:
        _sign_in(http)
        session_id = http.cookies["rostersync_session"]
        token = _csrf(http)
        out = http.post("/console/logout", data={"csrf_token": token})
        assert out.status_code == 303
    with console.http() as replay:
        replay.cookies.set("rostersync_session", session_id)
        assert replay.get("/console/account").status_code == 303
        assert replay.get("/console/account?format=json").status_code == 401


def test_forms_without_their_token_are_refused_and_audited(console: Console) -> None:
    with console.http() as http:
        _sign_in(http)
        right = _csrf(http)
        for sent in ({}, {"csrf_token": "0" * 64}):
            answer = http.post("/console/account/tokens", data={"name": "x", "days": "9", **sent})
            assert answer.status_code == 403
            assert "did not carry this session&#39;s security token" in answer.text
        # The token of another session does not do either.
        with console.http() as other:
            _sign_in(other)
            foreign = _csrf(other)
        assert foreign != right
        assert http.post("/console/logout", data={"csrf_token": foreign}).status_code == 403
        # A JSON body cannot smuggle a change past the check.
        assert http.post("/console/logout", json={"csrf_token": right}).status_code == 403
        # The header form (HTMX requests) is accepted.
        ok = http.post("/console/logout", headers={"X-CSRF-Token": right})
        assert ok.status_code == 303
    refused = [d for a, act, d in console.audit_actions() if act == "console.csrf_refused"]
    assert len(refused) == 4
    assert {d["token"] for d in refused} == {"missing", "wrong"}
    assert {d["path"] for d in refused} == {"/console/account/tokens", "/console/logout"}


def test_login_form_needs_its_own_token(console: Console) -> None:
    with console.http() as http:
        _login_token(http)
        answer = http.post("/console/login", data={"name": "olive", "password": PASSWORD})
        assert answer.status_code == 403
        assert "rostersync_session" not in http.cookies
    assert ("console:anonymous", "console.csrf_refused") in [
        (a, b) for a, b, _ in console.audit_actions()
    ]


def test_login_backoff_slows_guessing_with_a_clear_wait(console: Console) -> None:
    with console.http() as http:
        codes = [_sign_in(http, password="wrong password!").status_code for _ in range(5)]
        assert codes[:4] == [401, 401, 401, 401]
        assert codes[4] == 429
        throttled = _sign_in(http)  # even the right password waits
        assert throttled.status_code == 429
        assert "Too many failed sign-ins: try again in" in throttled.text
        assert int(throttled.headers["retry-after"]) >= 1


def test_idle_and_absolute_expiry(console: Console) -> None:
    account = console.accounts.get("olive")
    start = utcnow()
    sessions = Sessions(console.store, console.accounts, now=start)
    idle = sessions.start(account, address="127.0.0.1")
    busy = sessions.start(account, address="127.0.0.1")
    # Used every 20 minutes, the busy one outlives the idle timeout, up to the absolute limit.
    at = start
    while at + timedelta(minutes=20) < start + ABSOLUTE:
        at += timedelta(minutes=20)
        Sessions(console.store, console.accounts, now=at).resume(busy.id)
    later = Sessions(console.store, console.accounts, now=start + IDLE + timedelta(seconds=1))
    with pytest.raises(AuthenticationFailed, match="ended after 30 minutes without use"):
        later.resume(idle.id)
    end = Sessions(console.store, console.accounts, now=start + ABSOLUTE)
    with pytest.raises(AuthenticationFailed, match="ended after 12 hours"):
        end.resume(busy.id)
    # Over HTTP: an ended session sends the browser to the login page.
    with console.http() as http:
        http.cookies.set("rostersync_session", busy.id)
        answer = http.get("/console/")
        assert answer.status_code == 303
        assert "/console/login" in answer.headers["location"]


def test_district_admin_sees_only_granted_districts(console: Console) -> None:
    north = console.store.create_district("North Valley")
    south = console.store.create_district("South Ridge")
    console.account("nadia", "district_admin", (north.id,))
    with console.http() as http:
        assert _sign_in(http, "nadia").status_code == 303
        home = http.get("/console/", params={"all": "1"})
        assert "North Valley" in home.text
        assert "South Ridge" not in home.text
        assert http.get(f"/console/d/{north.slug}/").status_code == 200
        for key in (south.slug, str(south.id), "South Ridge", "no-such-district"):
            answer = http.get(f"/console/d/{key}/")
            assert answer.status_code == 404, key
            assert "South Ridge" not in answer.text.replace(key, "")
        # The switcher refuses it exactly like a district that does not exist.
        token = _csrf(http)
        switched = http.post("/console/switch", data={"csrf_token": token, "district": south.slug})
        missing = http.post("/console/switch", data={"csrf_token": token, "district": "nowhere"})
        assert switched.status_code == missing.status_code == 404
        as_json = http.get(f"/console/d/{north.slug}/?format=json").json()
        assert as_json["district"]["name"] == "North Valley"


def test_another_districts_pages_and_runs_answer_as_missing(console: Console) -> None:
    north = console.store.create_district("North Valley")
    south = console.store.create_district("South Ridge")
    theirs = console.store.create_run(south.id, trigger="manual")
    console.account("nadia", "district_admin", (north.id,))
    with console.http() as http:
        assert _sign_in(http, "nadia").status_code == 303
        token = _csrf(http)
        for path in (
            f"/console/d/{south.slug}/runs",
            f"/console/d/{south.slug}/runs/{theirs}",
            f"/console/d/{south.slug}/runs/{theirs}/changes",
            f"/console/d/{south.slug}/versions",
            f"/console/d/{south.slug}/overrides",
            f"/console/d/{south.slug}/clients",
            f"/console/d/{south.slug}/notifications",
            f"/console/d/{south.slug}/audit",
            f"/console/d/{south.slug}/audit.csv",
            # A run of the other district under one's own district answers as a missing run.
            f"/console/d/{north.slug}/runs/{theirs}",
            f"/console/d/{north.slug}/runs/{theirs}/changes",
            f"/console/d/{north.slug}/runs/{theirs}/report/users.csv",
        ):
            answer = http.get(path)
            assert answer.status_code == 404, path
            assert "South Ridge" not in answer.text, path
        for path, form in (
            (f"/console/d/{south.slug}/overrides", {"until": "2099-01-01"}),
            (f"/console/d/{south.slug}/clients", {"name": "x", "scopes": "roster-core.readonly"}),
            (f"/console/d/{north.slug}/runs/{theirs}/changes/approve", {}),
            (f"/console/d/{north.slug}/runs/{theirs}/changes/reject", {"reason": "no"}),
        ):
            answer = http.post(path, data={"csrf_token": token, **form})
            assert answer.status_code == 404, path
        assert console.store.get_run(theirs).status == "pending"


def test_bad_addresses_and_nul_characters_get_clear_pages(console: Console) -> None:
    north = console.store.create_district("North Valley")
    with console.http() as http:
        _sign_in(http)
        token = _csrf(http)
        for path in (
            f"/console/d/{north.slug}/runs/99999999999999999999",
            f"/console/d/{north.slug}/runs/0",
            f"/console/d/{north.slug}/runs/abc/changes",
            f"/console/d/{north.slug}/versions/-1/rollback",
            f"/console/d/{north.slug}/runs?offset=-3",
        ):
            answer = http.get(path)
            assert answer.status_code == 422, path
            assert "The form is not complete or not valid" in answer.text, path
        assert http.get(f"/console/d/{north.slug}/runs?status=exploded").status_code == 422
        assert http.get(f"/console/d/{north.slug}/audit?since=yesterday").status_code == 422
        nul = http.post(
            f"/console/d/{north.slug}/overrides",
            data={"csrf_token": token, "until": "2099-01-01", "reason": "a\x00b"},
        )
        assert nul.status_code == 422
        assert "The form contains a NUL character" in nul.text
        assert http.get(f"/console/d/{north.slug}/audit?action=%00").status_code == 422
