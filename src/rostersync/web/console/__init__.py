"""The admin web console: server-rendered pages (Jinja2 + HTMX, Pico CSS, all assets served from
the package) that are thin views over the management service functions, each with a JSON twin.

Browsers sign in with a server-side session (``admin.sessions``); every state-changing form is
CSRF-checked by the console's route class (:mod:`~rostersync.web.console.routing`). Pages live
under ``/console``; ``/`` leads there.

Adding a page: a module here with ``router = APIRouter(route_class=ConsoleRoute)``
(:mod:`~rostersync.web.console.routing`), views taking ``session: SessionDep`` and getting their
district from :func:`~rostersync.web.console.deps.district_for`, answering with
:func:`~rostersync.web.console.deps.render` (a template extending ``base.html`` over the data
its JSON twin returns); forms carry ``<input type="hidden" name="csrf_token" value="{{
csrf_token }}">``. Then list the module in :data:`PAGE_MODULES`, and add its district path to
``deps.NAV_PAGES`` if the navigation should link to it.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Final

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from rostersync.settings import Settings
from rostersync.store import Store
from rostersync.web.console import (
    account,
    audit_admins,
    auth,
    changes,
    district_admin,
    home,
    notifications,
    runs,
    versions,
)
from rostersync.web.console import wizard as wizard_pages

STATIC_DIR: Final = Path(__file__).parent.parent / "static"
#: Where the console's own and vendored assets are served (the pages refer to them by path).
ASSETS: Final = {
    "/static/console": STATIC_DIR / "console",
    "/static/vendor/htmx": STATIC_DIR / "vendor" / "htmx",
    "/static/vendor/pico": STATIC_DIR / "vendor" / "pico",
}

#: Every console page module (each has a ``router`` built with ``ConsoleRoute``), in order.
PAGE_MODULES: list[ModuleType] = [
    auth,
    home,
    account,
    runs,
    changes,
    versions,
    district_admin,
    notifications,
    audit_admins,
    wizard_pages,  # the Application Gallery and the configuration wizard
]


def install(app: FastAPI, store: Store, settings: Settings) -> None:
    """Mount the console's pages and its static assets."""
    del store, settings  # the pages read them from app.state, per request
    for path, directory in ASSETS.items():
        app.mount(path, StaticFiles(directory=directory, check_dir=True), name=path.strip("/"))
    for module in PAGE_MODULES:
        app.include_router(module.router, include_in_schema=False)
