"""Rendering pages: one Jinja2 environment (autoescaped, strict about undefined names) and the
context every page shares: who is signed in, what the navigation offers their role, the
session's CSRF token, and the URLs of the static files.

Values from the data reach a template as data; Jinja2 escapes every one of them (a name holding
``<script>`` is shown as those characters). Nothing is marked safe but the JSON that
``tojson`` writes for htmx's request headers, which escapes ``<``, ``>``, ``&`` and ``'``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from casebridge.web.auth.sessions import SessionState, Stage, session_of
from casebridge.web.pages.assets import Asset, asset_url
from casebridge.web.permissions import Permission, allowed

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# htmx's settings (read from <meta name="htmx-config">): no inline <style> for its indicators
# (the CSP refuses inline styles), no eval, no scripts from swapped content, requests to this
# origin only, and no copies of pages kept in localStorage for the back button (they hold
# personal data): going back reloads the page from the service instead. A 422 (a form the
# casework rules refuse) is swapped in, so its message shows; other errors are not.
HTMX_CONFIG = {
    "includeIndicatorStyles": False,
    "allowEval": False,
    "allowScriptTags": False,
    "selfRequestsOnly": True,
    "historyCacheSize": 0,
    "refreshOnHistoryMiss": True,
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[23]..", "swap": True},
        {"code": "422", "swap": True},
        {"code": "[45]..", "swap": False, "error": True},
    ],
}


@dataclass(frozen=True)
class NavLink:
    """One entry of the main navigation."""

    label: str
    href: str
    permission: Permission


# only pages that exist; each shown to the roles that may open it
NAVIGATION = (
    NavLink("Review queue", "/queue", Permission.READ_CASEWORK),
    NavLink("My account", "/account", Permission.OWN_ACCOUNT),
)


def path_of(kind: str, identifier: str) -> str:
    """A page's path for an id that may hold ``/`` or ``:`` (``/items/event:force_a:NP/1``)."""
    return f"/{kind}/{quote(identifier, safe='/:')}"


def query(**values: object) -> str:
    """A query string of the values given that are not empty."""
    kept = {k: v for k, v in values.items() if v not in (None, "")}
    return urlencode(kept)


def when(value: dt.datetime | dt.date | None) -> str:
    """A time as people read it (UTC, to the minute), or a date as ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def words(value: str | None) -> str:
    """A code in words: ``no_further_action`` as "no further action"."""
    return (value or "").replace("_", " ")


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(path_of=path_of, query=query)
    environment.filters.update(when=when, words=words)
    return environment


ENVIRONMENT = _environment()


class Pages:
    """What renders a page for a request: the environment and the static files' URLs."""

    def __init__(self, assets: dict[str, Asset]) -> None:
        self.assets = assets
        self.htmx_config = json.dumps(HTMX_CONFIG, separators=(",", ":"))

    def asset(self, name: str) -> str:
        return asset_url(self.assets, name)

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        """``template`` rendered for ``request``, with the shared context."""
        state = session_of(request)
        signed_in = state if state is not None and state.stage is Stage.COMPLETE else None
        values: dict[str, Any] = {
            "asset": self.asset,
            "htmx_config": self.htmx_config,
            "me": signed_in,
            "navigation": navigation_for(signed_in),
            "current_path": request.url.path,
            "csrf_token": state.csrf_token if state is not None else None,
            "message": None,
            "can": (lambda p: allowed(signed_in.role, Permission(p))) if signed_in else _never,
        }
        values.update(context or {})
        html = ENVIRONMENT.get_template(template).render(values)
        return HTMLResponse(html, status_code=status_code)


def _never(_permission: str) -> bool:
    return False


def navigation_for(state: SessionState | None) -> list[NavLink]:
    """The navigation a signed-in account's role may follow (none before a sign-in)."""
    if state is None:
        return []
    return [link for link in NAVIGATION if allowed(state.role, link.permission)]
