"""The API docs page works without internet: ``/docs`` refers to no other host, and every asset
it names is served by the app itself from the package (the real app over a socket)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from or_provider import serve

from rostersync.settings import load_settings
from rostersync.store import open_store
from rostersync.web import create_app
from rostersync.web.docs import SWAGGER_UI_DIR


@pytest.fixture
def http(tmp_path: Path) -> Iterator[httpx.Client]:
    settings = load_settings(data_dir=tmp_path / "var")
    store = open_store(settings, upgrade=True)
    try:
        with serve(create_app(settings, store)) as url, httpx.Client(base_url=url) as client:
            yield client
    finally:
        store.dispose()


def test_docs_page_refers_to_no_other_host(http: httpx.Client) -> None:
    page = http.get("/docs")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert not re.findall(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", page.text, flags=re.I)
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert {Path(a).name for a in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css"}
    for asset in assets:
        resp = http.get(asset)
        assert resp.status_code == 200, asset
        assert resp.content == (SWAGGER_UI_DIR / Path(asset).name).read_bytes()
    assert "url: '/openapi.json'" in page.text
    assert http.get("/openapi.json").json()["info"]["title"] == "rostersync"
    assert "oauth2RedirectUrl" in page.text
    assert http.get("/docs/oauth2-redirect").status_code == 200


def test_no_cdn_page_and_no_stray_files(http: httpx.Client) -> None:
    assert http.get("/redoc").status_code == 404  # ReDoc would need a CDN: not served
    assert http.get("/static/vendor/swagger-ui/../../app.py").status_code == 404
    assert http.get("/static/vendor/swagger-ui/nothing.js").status_code == 404


def test_the_vendored_files_are_recorded() -> None:
    notes = (SWAGGER_UI_DIR / "VENDORED.md").read_text(encoding="utf-8")
    assert "swagger-ui-dist` **5." in notes
    assert "Apache License 2.0" in notes
    assert "Apache License" in (SWAGGER_UI_DIR / "LICENSE").read_text(encoding="utf-8")

    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
        digest = hashlib.sha256((SWAGGER_UI_DIR / name).read_bytes()).hexdigest()
        assert f"`{name}` | `{digest}`" in notes, name
