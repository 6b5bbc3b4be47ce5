"""The JSON management API under ``/api/v1``: every admin action, over the service functions.

Routers are thin: one per resource, each calling :mod:`rostersync.manage`, :mod:`rostersync.admin`
or the sync package's approval and override functions — nothing is implemented twice. Callers
authenticate with a personal API token; access is decided in one place
(:func:`~rostersync.web.api_v1._core.district_for`, over ``admin.authz``); every change is
audited with the caller as ``api:<account>``. Errors have one shape,
``{"error": {"code", "message", "hint"?, "problems"?}}``. Its OpenAPI document is at
``/api/v1/openapi.json`` and its docs page at ``/api/v1/docs`` (Swagger UI from the package).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse

from rostersync import __version__
from rostersync.settings import Settings
from rostersync.store import Store
from rostersync.web.api_v1 import audit, clients, configs, districts, runs, secrets, versions
from rostersync.web.api_v1 import events as events_feed
from rostersync.web.api_v1 import wizard as wizard_api
from rostersync.web.api_v1._core import BodyLimit, ErrorBody, error_response
from rostersync.web.docs import SWAGGER_UI_PATH

PREFIX = "/api/v1"
OPENAPI_PATH = PREFIX + "/openapi.json"
DOCS_PATH = PREFIX + "/docs"

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "malformed request",
        401: "missing, unknown, expired or revoked token",
        403: "the caller's role does not allow it",
        404: "no such thing (or not in the caller's districts)",
        409: "conflicts with the current state",
        413: "body too large",
        422: "invalid input: every problem with its path",
        429: "too many failed authentications from this address",
    }.items()
}


def build_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, responses=_ERRORS)
    for module in (districts, configs, runs, versions, clients, secrets, audit):
        router.include_router(module.router)
    # the rest of the management plane: schedules, notifications, admins, installation
    from rostersync.web.api_v1 import admins, notifications, run_stream, schedules

    for module in (run_stream, schedules, notifications, admins):
        router.include_router(module.router)
    router.include_router(wizard_api.router)  # the Application Gallery and the wizard
    # manual match / unmatch and the syncs' re-links
    from rostersync.web.api_v1 import matches

    router.include_router(matches.router)
    return router


def install(app: FastAPI, store: Store, settings: Settings) -> None:
    """Mount the management API, its OpenAPI document and docs page, and its body limit."""
    router = build_router()
    # Documented by its own schema below; the app's /openapi.json stays the OneRoster provider's.
    app.include_router(router, include_in_schema=False)
    # The apps' events feed: under /api/v1 but authenticated with OneRoster client tokens, not
    # personal tokens, so it stays out of the admins' schema.
    app.include_router(events_feed.router, prefix=PREFIX, include_in_schema=False)

    app.add_middleware(BodyLimit)
    schema: dict[str, Any] = {}

    @app.get(OPENAPI_PATH, include_in_schema=False)
    def openapi() -> JSONResponse:
        if not schema:
            schema.update(
                get_openapi(
                    title="rostersync management API",
                    version=__version__,
                    description=__doc__,
                    routes=router.routes,
                )
            )
        return JSONResponse(schema)

    @app.get(DOCS_PATH, include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_PATH,
            title="rostersync management API — docs",
            swagger_js_url=f"{SWAGGER_UI_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_UI_PATH}/favicon-32x32.png",
        )

    # Last, so that the document and the docs page above are matched first.
    @app.api_route(
        PREFIX + "/{rest:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    def unknown(request: Request, rest: str) -> JSONResponse:
        """Any other path or method under the API: a 404 in the API's error shape."""
        return error_response(
            404,
            "no_such_endpoint",
            f"No endpoint {request.method} {request.url.path}",
            hint=f"see {DOCS_PATH}",
        )
