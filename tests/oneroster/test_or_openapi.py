"""The provider's OpenAPI document says what the provider really accepts and answers (what a
fuzzer of tests/fuzz and bench/fuzz.py relies on)."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
from or_provider import V11, V12, Provider

from rostersync.export.oneroster.api import ENDPOINTS


@pytest.fixture(scope="module")
def schema(provider: Provider) -> dict[str, Any]:
    resp = provider.http.get("/openapi.json")
    assert resp.status_code == 200
    return dict(resp.json())


def _param_schema(schema: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    op = schema["paths"][path]["get"]
    found = next(p for p in op["parameters"] if p["name"] == name)
    return {**found["schema"], "components": schema["components"]}


def test_every_route_declares_its_path_parameters_auth_and_errors(schema: dict[str, Any]) -> None:
    """Found by the first fuzz run: 83 operations with no parameters, no security and an
    empty 200 as their only response."""
    for base in (V12, V11):
        for ep in ENDPOINTS:
            op = schema["paths"][base + ep.path]["get"]
            declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", ep.path)), ep.path
            assert {"bearer": []} in op["security"]
            assert {"200", "400", "401", "403"} <= set(op["responses"])
            error = op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"]
            assert error.endswith("StatusInfo" if base == V12 else "StatusInfoSet")
    token = schema["paths"]["/oauth/token"]["post"]
    assert "application/x-www-form-urlencoded" in token["requestBody"]["content"]
    assert schema["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]


@pytest.mark.parametrize("name", ["limit", "offset", "sort", "orderBy", "filter"])
def test_an_empty_query_parameter_is_documented_as_served(
    provider: Provider, schema: dict[str, Any], name: str
) -> None:
    """Found by the long fuzz run: ``?offset=`` and ``?sort=`` are served as if left out, but
    the schema said an integer and an enum, so clients were told a valid request was wrong."""
    assert jsonschema_rs.is_valid(_param_schema(schema, f"{V12}/users", name), "")
    resp = provider.get(f"{V12}/users", **{name: ""})
    assert resp.status_code == 200, resp.text


def test_the_sort_enum_is_what_the_provider_sorts_on(
    provider: Provider, schema: dict[str, Any]
) -> None:
    """Every name the schema offers for ``sort`` is accepted, and others are refused."""
    for path in (f"{V12}/users", f"{V11}/users", f"{V12}/classes", f"{V12}/enrollments"):
        names = _param_schema(schema, path, "sort")["enum"]
        for name in names:
            resp = provider.get(path, sort=name, limit="1")
            assert resp.status_code == 200, (path, name, resp.text)
    assert provider.get(f"{V12}/users", sort="roles").status_code == 400
