"""Helpers for the service's tests: sign a test client in as a new account of a given role.

``sign_in`` goes through the real sign-in routes (password, then a real TOTP code), so a test
that uses it exercises the same path a person does; only argon2 is made cheap, for speed.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pyotp
from argon2 import PasswordHasher, Type
from fastapi import FastAPI
from fastapi.testclient import TestClient

from casebridge.web.auth.accounts import begin_enrolment, create_account
from casebridge.web.auth.csrf import CSRF_HEADER
from casebridge.web.db import transaction

# argon2id at its cheapest: for tests only; the service's own hasher is RFC 9106's profile
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)


@contextmanager
def closing(app: FastAPI) -> Iterator[FastAPI]:
    """``app``, its database connections closed when the block ends (PostgreSQL warns about
    connections left open at exit, and warnings are errors)."""
    try:
        yield app
    finally:
        app.state.engine.dispose()


def use_fast_hasher(app: FastAPI) -> None:
    """Make ``app`` hash and check passwords with the cheap test parameters."""
    app.state.password_hasher = FAST_HASHER


def make_account(
    app: FastAPI, role: str, scopes: list[str], username: str | None = None
) -> tuple[str, str, str]:
    """A new account with an enrolled second factor: its username, password and TOTP secret."""
    use_fast_hasher(app)
    chosen = username or f"{role}-{secrets.token_hex(4)}"
    password = f"test password {secrets.token_hex(8)}"
    with transaction(app.state.sessions) as db:
        made = create_account(
            db, FAST_HASHER, username=chosen, role=role, scopes=scopes, password=password
        )
        secret = begin_enrolment(made.account)
        made.account.totp_confirmed = True
    return made.account.username, password, secret


def current_code(secret: str) -> str:
    """The code an authenticator app shows now for ``secret``."""
    return pyotp.TOTP(secret).at(dt.datetime.now(dt.UTC))


def sign_in(
    client: TestClient, app: FastAPI, role: str, scopes: list[str], username: str | None = None
) -> str:
    """Create an account of ``role`` seeing ``scopes``, sign ``client`` in as it through the
    login routes (password, then TOTP), and return the session's CSRF token. The client keeps
    the session cookie; send the token as ``{"X-CSRF-Token": token}`` with every write.

    Each call makes a new account (``username`` must be unused); the sign-in steps add trail
    entries (``sign_in.password_accepted``, ``sign_in.second_factor_accepted``).
    """
    chosen, password, secret = make_account(app, role, scopes, username)
    answer = client.post("/api/auth/login", json={"username": chosen, "password": password})
    assert answer.status_code == 200, answer.text
    csrf_token: str = answer.json()["csrf_token"]
    answer = client.post(
        "/api/auth/second-factor",
        json={"code": current_code(secret)},
        headers={CSRF_HEADER: csrf_token},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["next"] == "complete", answer.text
    return csrf_token
