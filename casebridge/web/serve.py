"""Start the service: open the workspace, migrate the database, and serve with uvicorn."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from casebridge.web.app import create_app
from casebridge.web.config import ServiceSettings, settings_for


def serve(settings: ServiceSettings, host: str, port: int) -> None:
    """Serve until interrupted. Logs carry no personal data: no query strings, no bodies."""
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")


def serve_workspace(workspace: Path, host: str, port: int, secure_cookies: bool) -> None:
    """Serve ``workspace`` with the database its environment names."""
    serve(settings_for(workspace, secure_cookies=secure_cookies), host, port)
