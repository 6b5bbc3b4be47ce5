"""The management API's OpenAPI document and docs page, served from the package."""

from __future__ import annotations

from dataclasses import fields

import httpx
import pytest
from api_helpers import Api

from rostersync.store import RunRecord
from rostersync.web.api_v1 import (
    PREFIX,
    admins,
    audit,
    clients,
    configs,
    districts,
    matches,
    notifications,
    run_stream,
    runs,
    schedules,
    secrets,
    versions,
    wizard,
)
from rostersync.web.api_v1.models import RunOut


@pytest.fixture
def raw(api: Api) -> httpx.Client:
    client = httpx.Client(base_url=api.url, timeout=60)
    api.clients["raw"] = client
    return client


def test_every_endpoint_is_documented_with_its_response_model(raw: httpx.Client) -> None:
    response = raw.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    paths = doc["paths"]
    modules = (districts, configs, runs, versions, clients, secrets, audit, wizard)
    modules += (run_stream, schedules, notifications, admins)
    modules += (matches,)
    routes = {
        (method, PREFIX + route.path)
        for module in modules
        for route in module.router.routes
        for method in getattr(route, "methods", ())
    }
    assert len(routes) >= 45
    documented = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    assert routes == documented
    assert all(p.startswith("/api/v1/") for p in paths)
    assert "personal token" in doc["components"]["securitySchemes"]
    for path, ops in paths.items():
        for method, op in ops.items():
            ok = [s for s in op["responses"] if s.startswith("2")]
            assert ok, (method, path)
            for status in ok:
                if status == "204":
                    continue
                content = op["responses"][status]["content"]
                schema = next(iter(content.values()))["schema"]
                assert schema, (method, path, status)
                if not {"text/csv", "text/event-stream"} & set(content):
                    assert "$ref" in str(schema), (method, path, schema)
            assert op["responses"]["401"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorBody"
            }
            assert op["security"] == [{"personal token": []}], (method, path)


def test_the_docs_page_uses_the_packaged_swagger_assets(raw: httpx.Client) -> None:
    page = raw.get("/api/v1/docs")
    assert page.status_code == 200
    assert "/api/v1/openapi.json" in page.text
    assert "cdn" not in page.text.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        src = f"/static/vendor/swagger-ui/{asset}"
        assert src in page.text
        assert raw.get(src).status_code == 200


def test_run_out_mirrors_the_run_record_field_for_field() -> None:
    """RunOut is the API's contract for the store's RunRecord: a field added to one and not the
    other would fail every run listing (extra fields are forbidden); this names the field."""
    assert list(RunOut.model_fields) == [f.name for f in fields(RunRecord)]
