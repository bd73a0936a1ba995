"""docs/service.md names every sign-in and accounts route, every setting they read, and every
trail action they write."""

from __future__ import annotations

import re
from pathlib import Path

from casebridge.web import administration
from casebridge.web.auth import signin
from casebridge.web.config import ServiceSettings
from casebridge.web.permissions import api_routes
from casebridge.web.routes import accounts, auth

DOCS = Path(__file__).parents[2] / "docs" / "service.md"
SOURCES = [Path(module.__file__ or "") for module in (signin, accounts, auth, administration)]


def _docs() -> str:
    return DOCS.read_text(encoding="utf-8")


def test_the_docs_name_every_route() -> None:
    docs = _docs()
    routers = (auth.router, auth.oidc_router, accounts.router)
    for router in routers:
        for declared in api_routes(router.routes):
            path = re.sub(r"\{account_id\}", "{id}", declared.path)
            assert f"{next(iter(declared.methods))} {path}" in docs or path in docs, path


def test_the_docs_name_every_sign_in_setting() -> None:
    docs = _docs()
    own = ["secure_cookies", "idle_minutes", "absolute_hours", "lockout_after"]
    own += ["lockout_minutes", "address_attempts"]
    own += [name for name in ServiceSettings.model_fields if name.startswith("oidc_")]
    for name in own:
        assert f"`{name}`" in docs, name


def test_the_docs_name_every_trail_action() -> None:
    docs = _docs()
    written = set()
    for source in SOURCES + [Path(signin.__file__ or "").parent / "bootstrap.py"]:
        text = source.read_text(encoding="utf-8")
        written |= set(re.findall(r'"((?:sign_in|account)\.[a-z_]+|sign_out)"', text))
    assert len(written) >= 15
    for action in written:
        assert f"`{action}`" in docs, action
