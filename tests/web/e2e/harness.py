"""The browser tests' harness: the service on a free loopback port in a uvicorn thread, over
the casework tests' small synthetic workspace, and Debian's chromium driven by Playwright.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium`` (``make browser``
installs it, as root). Without chromium or Playwright the tests are skipped with a note, except
under ``CI``, where they fail: CI runs ``make test`` as root, which installs both.

The service runs on SQLite only: what the browser tests add (pages, keyboard, scripts, the CSP)
does not depend on the database, and the page tests that run through the test client
(``tests/web/test_pages*.py``) run on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from casebridge.web.config import settings_for
from tests.web.casework_world import World, service
from tests.web.support import use_fast_hasher

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[3]
# the accessibility checker, from the npm package 'make assets' installs (package-lock.json)
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# what a Content-Security-Policy refusal says in chromium's console
CSP_REFUSAL = re.compile(r"Content Security Policy", re.IGNORECASE)


def skip_or_fail(why: str) -> None:
    """Skip the module with ``why``; under CI, fail it (CI installs what is missing)."""
    if os.environ.get("CI"):
        pytest.fail(f"{why} (CI has it: 'make test' installs it as root)", pytrace=False)
    pytest.skip(why, allow_module_level=True)


def require_browser() -> Any:
    """Playwright's sync API, if it and Debian's chromium are here; else skip (or fail)."""
    if CHROMIUM is None:
        skip_or_fail("Debian's chromium is not installed here ('make browser' installs it)")
    try:
        from playwright import sync_api
    except ImportError:
        skip_or_fail("Playwright for Python is not installed ('make' installs the dev extras)")
    if not AXE.is_file():
        skip_or_fail("axe-core is not installed ('make assets' installs it with npm ci)")
    return sync_api


@dataclass
class Server:
    """The service running in a thread, and where to reach it."""

    app: FastAPI
    url: str


@contextmanager
def running(app: FastAPI) -> Iterator[Server]:
    """Serve ``app`` on a free loopback port until the block ends."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the service did not start within 20 s")
        time.sleep(0.02)
    try:
        yield Server(app, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        listening.close()


@contextmanager
def served_world(world: World, folder: Path) -> Iterator[Server]:
    """The service over ``world`` with a new SQLite database in ``folder``."""
    settings = settings_for(
        world.root, database_url=f"sqlite:///{folder / 'service.sqlite'}", secure_cookies=False
    )
    app = service(settings, world)
    use_fast_hasher(app)
    try:
        with running(app) as server:
            yield server
    finally:
        app.state.snapshots.close()
        app.state.engine.dispose()


@dataclass
class Watch:
    """What the pages of one browser context asked for, and what the CSP refused."""

    origin: str
    requests: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def foreign(self) -> list[str]:
        """Requests to anywhere but the service's own origin."""
        return [url for url in self.requests if not url.startswith(self.origin + "/")]


def watch(context: Any, origin: str) -> Watch:
    """Record every request a context's pages make and every CSP refusal in their consoles."""
    seen = Watch(origin)
    context.on("request", lambda request: seen.requests.append(request.url))

    def console(message: Any) -> None:
        if CSP_REFUSAL.search(message.text):
            seen.refusals.append(message.text)

    context.on("page", lambda page: page.on("console", console))
    return seen
