"""Sign-in's part of the application: its routes, the session lookup every protected route
consults, the password hasher, and OIDC when it is configured."""

from __future__ import annotations

from fastapi import FastAPI

from casebridge.web.auth import oidc
from casebridge.web.auth.passwords import default_hasher
from casebridge.web.auth.sessions import principal_of
from casebridge.web.config import ServiceSettings
from casebridge.web.routes import accounts, auth


def install_sign_in(app: FastAPI, settings: ServiceSettings) -> None:
    """Give ``app`` its sign-in routes and its session lookup (``app.state.principal_of``).

    CSRF protection is the application-wide dependency ``csrf.require_csrf_token``, given
    to ``FastAPI(dependencies=...)`` so that every router included later gets it too.
    """
    app.state.principal_of = principal_of
    app.state.password_hasher = default_hasher()
    app.include_router(auth.router)
    app.include_router(accounts.router)
    given = (settings.oidc_metadata_url, settings.oidc_client_id, settings.oidc_redirect_url)
    if any(given):
        # refuses to start when only some of the three are given (a half-configured OIDC)
        app.state.oidc_client = oidc.AuthlibClient(settings)
        app.include_router(auth.oidc_router)
