"""The OpenAPI docs page (``/docs``), served with Swagger UI files shipped in the package.

FastAPI's default page loads Swagger UI from a CDN and its favicon from another host, so on a
host without internet access ``/docs`` stayed blank. Here the page and its assets come from
this installation only (``static/vendor/swagger-ui``, see ``VENDORED.md`` there). ReDoc, which
would need a CDN too, is not served.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI_DIR: Final = Path(__file__).parent / "static" / "vendor" / "swagger-ui"
#: Where the assets are served; the page refers to them by path only (same host).
SWAGGER_UI_PATH: Final = "/static/vendor/swagger-ui"
DOCS_PATH: Final = "/docs"
OAUTH2_REDIRECT_PATH: Final = "/docs/oauth2-redirect"


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and its Swagger UI assets from the package (create the app with
    ``docs_url=None, redoc_url=None`` so FastAPI's CDN page is not registered too)."""
    app.mount(
        SWAGGER_UI_PATH,
        StaticFiles(directory=SWAGGER_UI_DIR, check_dir=True),
        name="swagger-ui",
    )

    @app.get(DOCS_PATH, include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API docs",
            swagger_js_url=f"{SWAGGER_UI_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_UI_PATH}/favicon-32x32.png",
            oauth2_redirect_url=OAUTH2_REDIRECT_PATH,
        )

    @app.get(OAUTH2_REDIRECT_PATH, include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
