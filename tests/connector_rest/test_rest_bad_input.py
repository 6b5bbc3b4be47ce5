"""A provider answering 500s, garbage, wrong shapes, bad records or refusing us: a clear error
naming the place, never a traceback, nothing returned from a broken extraction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from rest_helpers import FaultyTransport, Provider, make

from rostersync.connectors import Extraction
from rostersync.errors import SourceAuthError, SourceDataError, SourceError, SourceUnreachable


def _run(provider: Provider, transport: FaultyTransport, **options: Any) -> Extraction:
    async def go() -> Extraction:
        async with httpx.AsyncClient(timeout=10, transport=transport) as client:
            conn = make(client, provider.url, provider.client_id, provider.secret, **options)
            return await conn.extract()

    return asyncio.run(go())


def _fails(provider: Provider, transport: FaultyTransport, **options: Any) -> SourceError:
    with pytest.raises(SourceError) as caught:
        _run(provider, transport, **options)
    assert "Traceback" not in str(caught.value)
    assert provider.secret not in str(caught.value)
    return caught.value


def _on_users(
    change: Callable[[httpx.Request, httpx.Response], httpx.Response],
) -> Callable[[httpx.Request, httpx.Response], httpx.Response]:
    def mangle(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.path.endswith("/users"):
            return change(request, response)
        return response

    return mangle


def _body(response: httpx.Response, content: bytes, status: int = 200) -> httpx.Response:
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return httpx.Response(status, content=content, headers=headers)


def _edit_users(edit: Callable[[list[dict[str, Any]]], None]) -> FaultyTransport:
    def change(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        body = orjson.loads(response.content)
        edit(body["users"])
        return _body(response, orjson.dumps(body))

    return FaultyTransport(mangle=_on_users(change))


def test_a_provider_answering_500s_is_unreachable(provider: Provider) -> None:
    transport = FaultyTransport(
        fault=lambda r: httpx.Response(500) if r.url.path.endswith("/classes") else None
    )
    error = _fails(provider, transport)
    assert isinstance(error, SourceUnreachable)
    assert "failed 3 times: HTTP 500 from" in error.message
    assert "/classes" in error.message


def test_a_transient_500_is_retried(provider: Provider) -> None:
    failures = {"left": 2}

    def fault(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/enrollments") and failures["left"]:
            failures["left"] -= 1
            return httpx.Response(503)
        return None

    result = _run(provider, FaultyTransport(fault=fault))
    assert result.stats["retries"] == 2
    assert result.roster["enrollments"].height == provider.roster["enrollments"].height


def test_garbage_json_names_the_url(provider: Provider) -> None:
    transport = FaultyTransport(mangle=_on_users(lambda _, r: _body(r, b"<html>oops</html>")))
    error = _fails(provider, transport)
    assert isinstance(error, SourceDataError)
    assert "/ims/oneroster/rostering/v1p2/users a body that is not JSON" in error.message


def test_a_wrong_envelope_names_the_key(provider: Provider) -> None:
    transport = FaultyTransport(mangle=_on_users(lambda _, r: _body(r, b'{"people": []}')))
    error = _fails(provider, transport)
    assert "has no list of objects under 'users' (keys: people)" in error.message


def test_a_record_without_a_required_field_is_named(provider: Provider) -> None:
    victim = provider.roster["users"]["sourcedId"].sort()[0]

    def drop_name(users: list[dict[str, Any]]) -> None:
        for user in users:
            if user["sourcedId"] == victim:
                del user["givenName"]

    error = _fails(provider, _edit_users(drop_name))
    assert f"users {victim!r}: required givenName is missing" in error.message
    assert "nothing was imported" in (error.hint or "")


def test_an_invalid_value_is_named(provider: Provider) -> None:
    def bad_flag(users: list[dict[str, Any]]) -> None:
        users[0]["enabledUser"] = "maybe"

    error = _fails(provider, _edit_users(bad_flag))
    assert "enabledUser 'maybe' is not valid" in error.message


def test_a_record_listed_twice_is_named(provider: Provider) -> None:
    def twice(users: list[dict[str, Any]]) -> None:
        users.append(dict(users[0]))

    error = _fails(provider, _edit_users(twice), page_size=1000)
    assert "the provider lists it more than once" in error.message


def test_wrong_credentials_are_refused_clearly(provider: Provider) -> None:
    async def go() -> tuple[Any, SourceError]:
        async with httpx.AsyncClient(timeout=10) as client:
            conn = make(client, provider.url, provider.client_id, "not-the-secret")
            report = await conn.test_connection()
            with pytest.raises(SourceAuthError) as caught:
                await conn.extract()
            return report, caught.value

    report, error = asyncio.run(go())
    assert not report.ok
    assert f"refused the client credentials of {provider.client_id!r}" in report.message
    assert "delivery.client_id" in (error.hint or "")


def test_an_expired_token_is_renewed_once(provider: Provider) -> None:
    refused = {"left": 1}

    def fault(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/courses") and refused["left"]:
            refused["left"] -= 1
            return httpx.Response(401)
        return None

    result = _run(provider, FaultyTransport(fault=fault))
    assert result.stats["token_renewals"] == 1
    assert result.roster["courses"].height == provider.roster["courses"].height


def test_oauth1_is_refused_for_1p2() -> None:
    from rostersync.connectors.oneroster_rest import parse_options
    from rostersync.errors import ConfigValidationError

    with pytest.raises(ConfigValidationError) as caught:
        parse_options({"auth": "oauth1"}, "sources[0].connector")
    assert caught.value.problems[0].path == "sources[0].connector"
    assert "oauth1 (OAuth 1.0a) is a OneRoster 1.1 option" in caught.value.problems[0].message


def test_a_field_of_the_wrong_shape_is_named(provider: Provider) -> None:
    def nested_name(users: list[dict[str, Any]]) -> None:
        users[0]["givenName"] = {"first": "Ann"}

    error = _fails(provider, _edit_users(nested_name))
    assert "records that cannot be read together: field givenName is " in (error.message)

    def all_nested(users: list[dict[str, Any]]) -> None:
        for user in users:
            user["givenName"] = {"first": "Ann"}

    error = _fails(provider, _edit_users(all_nested))
    assert "users: field givenName is Struct" in error.message
    assert "not text as OneRoster has it" in error.message


def test_a_schools_mapping_naming_an_unknown_school_is_refused(provider: Provider) -> None:
    async def go() -> Extraction:
        async with httpx.AsyncClient(timeout=10) as client:
            conn = make(client, provider.url, provider.client_id, provider.secret)
            schools = [s.source_id for s in await conn.list_schools()]
            return await conn.extract([schools[0], "no-such-school"])

    with pytest.raises(SourceDataError) as caught:
        asyncio.run(go())
    assert caught.value.message == (
        "schools_mapping names schools the provider does not have: no-such-school"
    )
    assert "Test connection" in (caught.value.hint or "")
