"""Helpers of the console's browser tests: the app in a uvicorn thread, signing in, and the
checks every page gets (a screenshot kept as an artefact, an axe-core scan)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Page

from rostersync.admin.accounts import Accounts
from rostersync.settings import Settings
from rostersync.store import Store

PASSWORD = "correct horse battery staple"
HERE = Path(__file__).parent
#: Screenshots of every page the tests visit (git-ignored; CI keeps them as artefacts).
ARTIFACTS = HERE / "artifacts"
AXE_JS = HERE / "vendor" / "axe-core" / "axe.min.js"
#: Viewports every page is checked at: a laptop and a tablet held upright.
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}
#: axe-core impacts that fail a page.
BLOCKING = frozenset({"serious", "critical"})


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free 127.0.0.1 port in a thread; yield its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@dataclass
class Console:
    """The served app, its store and settings; ``backend`` names the store's database."""

    url: str
    store: Store
    settings: Settings
    backend: str

    @property
    def accounts(self) -> Accounts:
        return Accounts(self.store, self.settings)

    def account(self, name: str, role: str, districts: tuple[int, ...] = ()) -> str:
        """Create an account as the host's shell would; returns its name."""
        self.accounts.create(name, role, PASSWORD, actor="cli:root", districts_granted=districts)
        return name

    def http(self) -> httpx.Client:
        """A plain HTTP client of the console (no browser), following no redirects."""
        return httpx.Client(base_url=self.url, timeout=30, follow_redirects=False)

    def audit_actions(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [(e.actor, e.action, e.detail) for e in self.store.list_audit(limit=1000)]


def login(
    page: Page, console: Console, name: str, password: str = PASSWORD, code: str = ""
) -> None:
    """Sign in through the login form, as a person would."""
    page.goto(console.url + "/console/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    if code:
        page.get_by_label("Authenticator code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The axe-core violations of serious or critical impact on the page as it is now."""
    page.add_script_tag(path=str(AXE_JS))
    violations: list[dict[str, Any]] = page.evaluate("async () => (await axe.run()).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in violations
        if v.get("impact") in BLOCKING
    ]


def check_page(page: Page, name: str, backend: str) -> None:
    """Every page: no serious/critical axe-core violation, and a screenshot at both widths."""
    ARTIFACTS.mkdir(exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    found = axe_violations(page)
    assert not found, f"{name}: accessibility violations {found}"
    original = page.viewport_size or DESKTOP
    for label, size in (("desktop", DESKTOP), ("tablet", TABLET)):
        page.set_viewport_size(size)
        page.screenshot(path=str(ARTIFACTS / f"{slug}-{backend}-{label}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{name} scrolls sideways at {label} width ({width}px)"
    page.set_viewport_size(original)
