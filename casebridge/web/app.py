"""The ASGI application: its routers, its stores, and the checks it starts with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import Depends, FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casebridge.errors import CasebridgeError
from casebridge.web.auth.csrf import require_csrf_token
from casebridge.web.auth.install import install_sign_in
from casebridge.web.config import ServiceSettings
from casebridge.web.db import make_engine, migrate, session_factory
from casebridge.web.pages import install_pages
from casebridge.web.permissions import api_routes, permission_of
from casebridge.web.routes import health
from casebridge.web.routes.casework import install_casework
from casebridge.web.routes.trail import mount_trail

# one place for the headers every response carries (docs/service.md, "What it protects")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cache-Control": "no-store",
}


class SecurityHeaders:
    """Add :data:`SECURITY_HEADERS` to every response (those a route set stay). A plain ASGI
    middleware: Starlette's BaseHTTPMiddleware runs each request through an extra task and
    stream, which cost a service under load several percent of its time."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)


class UndeclaredRouteError(CasebridgeError):
    """A route does not declare its permission."""


def check_declarations(app: FastAPI) -> None:
    """Refuse an application with a route that declares no permission."""
    for declared in api_routes(app.routes):
        if permission_of(declared.route) is None:
            raise UndeclaredRouteError(
                f"route {sorted(declared.methods)} {declared.path} declares no permission; add "
                "Depends(Requires(...)) or Depends(PUBLIC) to it"
            )


def create_app(settings: ServiceSettings) -> FastAPI:
    """The service for one workspace, its database migrated to the newest schema."""
    engine = make_engine(settings.database_url)
    migrate(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # synchronous routes run in anyio's worker threads: as many at once as the settings say
        to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        yield
        engine.dispose()

    app = FastAPI(
        title="casebridge review service",
        version="1",
        description="Review teams' access to the pipeline's results, scoped by agency.",
        # every POST, PUT, PATCH and DELETE of every router must carry its CSRF token
        dependencies=[Depends(require_csrf_token)],
        lifespan=lifespan,
        # the schema is served behind a sign-in (routes/health.py); Swagger's pages would load
        # scripts from a CDN, which an air-gapped network and the CSP both refuse
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.include_router(health.router)
    mount_trail(app, settings)
    install_sign_in(app, settings)
    install_casework(app)
    install_pages(app)

    app.add_middleware(SecurityHeaders)
    check_declarations(app)
    return app
