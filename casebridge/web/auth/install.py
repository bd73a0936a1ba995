"""Sign-in's part of the application: its routes, the session lookup every protected route
consults, the password hasher, and OIDC when it is configured."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from casebridge.web.auth import limits, oidc
from casebridge.web.auth.passwords import default_hasher
from casebridge.web.auth.sessions import principal_of
from casebridge.web.config import ServiceSettings
from casebridge.web.routes import accounts, auth


def install_sign_in(app: FastAPI, settings: ServiceSettings) -> None:
    """Give ``app`` its sign-in routes and its session lookup (``app.state.principal_of``).

    CSRF protection is the application-wide dependency ``csrf.require_csrf_token``, given
    to ``FastAPI(dependencies=...)`` so that every router included later gets it too.
    """
    # the login digest key is made now: a folder it cannot be made in stops the service's start
    limits.digest_key(settings.workspace)
    app.add_exception_handler(RequestValidationError, refuse_without_echo)
    app.state.principal_of = principal_of
    app.state.password_hasher = default_hasher()
    app.include_router(auth.router)
    app.include_router(accounts.router)
    given = (settings.oidc_metadata_url, settings.oidc_client_id, settings.oidc_redirect_url)
    if any(given):
        # refuses to start when only some of the three are given (a half-configured OIDC)
        app.state.oidc_client = oidc.AuthlibClient(settings)
        app.include_router(auth.oidc_router)


async def refuse_without_echo(request: Request, error: Exception) -> JSONResponse:
    """422 naming the fields at fault and why, without echoing what was sent: a request's body
    may hold a password, personal data, or text that cannot even be encoded back."""
    assert isinstance(error, RequestValidationError)
    detail = [
        {
            "loc": [_encodable(part) for part in problem.get("loc", ())],
            "msg": _encodable(problem.get("msg", "")),
            "type": problem.get("type", ""),
        }
        for problem in error.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def _encodable(part: object) -> object:
    """A location part or message as JSON can carry it (a key may hold a lone surrogate)."""
    if isinstance(part, str):
        return part.encode("utf-8", "backslashreplace").decode("utf-8")
    return part
