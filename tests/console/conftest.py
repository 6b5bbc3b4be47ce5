"""Console fixtures: Debian's chromium driven by Playwright, and the real app served over HTTP
on each store backend (SQLite, and PostgreSQL when configured) with an operator account."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from console_helpers import DESKTOP, Console, serve
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from rostersync.settings import Settings
from rostersync.store import Store, make_engine
from rostersync.web.app import create_app

#: The browser the tests drive (browsers cannot be downloaded here; CI installs Debian's).
CHROMIUM = os.environ.get("ROSTERSYNC_TEST_CHROMIUM", "/usr/bin/chromium")


# Per module, not per session: while Playwright's sync API runs, its event loop is the main
# thread's running loop, and every later test calling asyncio.run (a sync) would fail.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no chromium at {CHROMIUM}: install Debian's chromium (.ci/run does) or set "
            "ROSTERSYNC_TEST_CHROMIUM to a Chromium binary"
        )
    instance = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
    )
    yield instance
    instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) at 1280×800."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def console(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Console]:
    """The web app over a migrated store on each backend, served by uvicorn on 127.0.0.1,
    with one operator account, ``olive``."""
    monkeypatch.setenv("ROSTERSYNC_DATABASE_URL", store_url)
    settings = Settings(database_url=store_url)
    store = Store(make_engine(store_url))
    store.upgrade()
    app = create_app(settings, store)
    backend = "postgres" if store_url.startswith("postgresql") else "sqlite"
    with serve(app) as url:
        running = Console(url, store, settings, backend)
        running.account("olive", "operator")
        yield running
    store.dispose()
