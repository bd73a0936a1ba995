"""The review workspace's pages: server-rendered (Jinja2, autoescaped), enhanced a little by
htmx where the browser runs it, and served with the service's strict CSP (docs/pages.md)."""

from __future__ import annotations

from fastapi import FastAPI

from casebridge.web.pages import assets, casework, people, signin, static
from casebridge.web.pages.errors import install_error_pages
from casebridge.web.pages.render import Pages


def install_pages(app: FastAPI) -> None:
    """Serve the pages and their static files on ``app``, and answer refused page requests
    with pages. Refuses to start without the browser libraries (``make assets``)."""
    pages = Pages(assets.load_assets())
    app.state.pages = pages
    app.include_router(static.router)
    app.include_router(signin.router)
    app.include_router(casework.router)
    app.include_router(people.router)
    install_error_pages(app, pages)
