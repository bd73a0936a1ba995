"""Start the service: open the workspace, migrate the database, and serve with uvicorn."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from casebridge.web.app import create_app
from casebridge.web.auth.bootstrap import (
    DemoAccount,
    FirstAdministrator,
    create_demo_accounts,
    create_first_administrator,
)
from casebridge.web.config import ServiceSettings, settings_for

Announce = Callable[[str], object]


def _to_stderr(text: str) -> None:
    sys.stderr.write(text)


def _to_stdout(text: str) -> None:
    sys.stdout.write(text)


def first_administrator_notice(first: FirstAdministrator) -> str:
    """What the first start tells whoever started it: the administrator's one-time sign-in."""
    return (
        "casebridge: no account existed, so the first administrator was created.\n"
        f"  username:           {first.username}\n"
        f"  one-time password:  {first.one_time_password}\n"
        "Sign in with these now: you will enrol a TOTP second factor and choose a new "
        "password. This password is shown only once.\n"
    )


def demo_accounts_notice(accounts: list[DemoAccount], url: str) -> str:
    """The demo's accounts, one line each: username, role, password, TOTP secret, scopes."""
    lines = [f"casebridge demo: sign in at {url} with one of these accounts", ""]
    for account in accounts:
        scopes = ", ".join(account.scopes) or "(no agency)"
        lines.append(
            f"  {account.username:<20} password {account.password}   "
            f"TOTP secret {account.totp_secret}   scopes: {scopes}"
        )
    lines.append("")
    lines.append("Add an account's TOTP secret to an authenticator app: it asks for a code.")
    return "\n".join(lines) + "\n"


def prepare(settings: ServiceSettings, announce: Announce = _to_stderr) -> FastAPI:
    """The application, with its first administrator made (and announced) on a new service."""
    app = create_app(settings)
    first = create_first_administrator(app.state.sessions, app.state.password_hasher)
    if first is not None:
        announce(first_administrator_notice(first))
    return app


def run(app: FastAPI, host: str, port: int) -> None:
    """Serve until interrupted. Logs carry no personal data: no query strings, no bodies."""
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")


def serve(settings: ServiceSettings, host: str, port: int) -> None:
    """Serve ``settings``' workspace until interrupted."""
    run(prepare(settings), host, port)


def serve_workspace(workspace: Path, host: str, port: int, secure_cookies: bool) -> None:
    """Serve ``workspace`` with the database its environment names."""
    serve(settings_for(workspace, secure_cookies=secure_cookies), host, port)


def prepare_demo(workspace: Path, host: str, port: int, announce: Announce = _to_stdout) -> FastAPI:
    """The demo's application: plain-HTTP cookies (loopback only) and an account of each role,
    whose passwords and TOTP secrets are announced."""
    app = create_app(settings_for(workspace, secure_cookies=False))
    made = create_demo_accounts(app.state.sessions, app.state.password_hasher, workspace)
    announce(demo_accounts_notice(made, f"http://{host}:{port}/"))
    return app


def serve_demo(workspace: Path, host: str, port: int) -> None:
    """Serve a demo workspace until interrupted."""
    run(prepare_demo(workspace, host, port), host, port)
