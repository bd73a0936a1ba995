"""Signing in through the routes: password, second factor (enrolled at first), a new password
in place of a one-time one; cookies, expiry, sign-out."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import pyotp
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from casebridge.web.app import create_app
from casebridge.web.auth import totp
from casebridge.web.auth.accounts import create_account, find_account
from casebridge.web.auth.sessions import COOKIE_NAME
from casebridge.web.config import ServiceSettings
from casebridge.web.db import transaction
from casebridge.web.models import Account, WebSession
from tests.web.support import (
    FAST_HASHER,
    closing,
    current_code,
    make_account,
    sign_in,
    use_fast_hasher,
)

CSRF = "X-CSRF-Token"


@pytest.fixture
def app(service_settings: ServiceSettings) -> Iterator[FastAPI]:
    with closing(create_app(service_settings)) as made:
        use_fast_hasher(made)
        yield made


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _new_account(app: FastAPI, username: str = "k.osei") -> str:
    """An account as an administrator makes it: a one-time password, no second factor yet."""
    with transaction(app.state.sessions) as db:
        made = create_account(db, FAST_HASHER, username=username, role="reviewer", scopes=["A"])
    return made.password


def _login(client: TestClient, username: str, password: str) -> dict[str, str]:
    answer = client.post("/api/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    body: dict[str, str] = answer.json()
    return body


def test_a_new_account_enrols_and_changes_its_password_before_anything_else(
    app: FastAPI, client: TestClient
) -> None:
    one_time = _new_account(app)
    step = _login(client, "K.Osei", one_time)
    assert step["next"] == "enrol_second_factor"
    csrf = {CSRF: step["csrf_token"]}
    assert client.get("/api/me").status_code == 401

    enrolment = client.post("/api/auth/second-factor/enrol", headers=csrf).json()
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/casebridge:k.osei?")
    assert enrolment["secret"] in enrolment["otpauth_uri"]
    wrong = client.post("/api/auth/second-factor", json={"code": "000000"}, headers=csrf)
    assert wrong.status_code == 401
    code = pyotp.TOTP(enrolment["secret"]).now()
    step = client.post("/api/auth/second-factor", json={"code": code}, headers=csrf).json()
    assert step["next"] == "change_password"
    csrf = {CSRF: step["csrf_token"]}
    assert client.get("/api/me").status_code == 401
    # the enrolment is done: its secret is not given out again
    assert client.post("/api/auth/second-factor/enrol", headers=csrf).status_code == 409

    for refused in ("short pass", "k.osei", one_time):
        answer = client.post("/api/auth/new-password", json={"new_password": refused}, headers=csrf)
        assert answer.status_code == 422
        assert "\n" not in answer.json()["detail"]
    chosen = {"new_password": "a long and new passphrase"}
    step = client.post("/api/auth/new-password", json=chosen, headers=csrf).json()
    assert step["next"] == "complete"
    assert client.get("/api/me").json() == {
        "username": "k.osei",
        "role": "reviewer",
        "scopes": ["A"],
    }


def test_an_enrolled_account_signs_in_with_password_then_code(
    app: FastAPI, client: TestClient
) -> None:
    username, password, secret = make_account(app, "analyst", ["A", "B"])
    step = _login(client, username, password)
    assert step["next"] == "second_factor"
    assert client.get("/api/me").status_code == 401
    csrf = {CSRF: step["csrf_token"]}
    # an enrolled account cannot ask for a new secret
    assert client.post("/api/auth/second-factor/enrol", headers=csrf).status_code == 409
    answer = client.post(
        "/api/auth/second-factor", json={"code": current_code(secret)}, headers=csrf
    )
    assert answer.json()["next"] == "complete"
    assert client.get("/api/me").json()["scopes"] == ["A", "B"]
    assert client.get("/api/auth/session").json()["stage"] == "complete"


def test_the_cookie_is_httponly_strict_and_only_its_digest_is_kept(
    app: FastAPI, client: TestClient
) -> None:
    username, password, _secret = make_account(app, "analyst", [])
    answer = client.post("/api/auth/login", json={"username": username, "password": password})
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # the fixture's settings allow plain HTTP
    token = client.cookies[COOKIE_NAME]
    with transaction(app.state.sessions) as db:
        kept = db.scalars(select(WebSession.token_hash)).one()
    assert kept == hashlib.sha256(token.encode()).hexdigest()


def test_cookies_are_secure_unless_the_settings_say_otherwise(
    service_settings: ServiceSettings,
) -> None:
    secure = service_settings.model_copy(update={"secure_cookies": True})
    with closing(create_app(secure)) as app, TestClient(app) as client:
        username, password, _secret = make_account(app, "analyst", [])
        answer = client.post("/api/auth/login", json={"username": username, "password": password})
    assert "Secure" in answer.headers["set-cookie"]


def test_the_token_changes_when_the_second_factor_is_entered(
    app: FastAPI, client: TestClient
) -> None:
    username, password, secret = make_account(app, "analyst", [])
    csrf = {CSRF: _login(client, username, password)["csrf_token"]}
    before = client.cookies[COOKIE_NAME]
    client.post("/api/auth/second-factor", json={"code": current_code(secret)}, headers=csrf)
    after = client.cookies[COOKIE_NAME]
    assert after != before
    with TestClient(app, cookies={COOKIE_NAME: before}) as stale:
        assert stale.get("/api/me").status_code == 401


def test_a_code_is_not_accepted_twice(app: FastAPI, client: TestClient) -> None:
    username, password, secret = make_account(app, "analyst", [])
    code = current_code(secret)
    csrf = {CSRF: _login(client, username, password)["csrf_token"]}
    assert (
        client.post("/api/auth/second-factor", json={"code": code}, headers=csrf).status_code == 200
    )
    client.post("/api/auth/logout", headers=csrf)
    csrf = {CSRF: _login(client, username, password)["csrf_token"]}
    again = client.post("/api/auth/second-factor", json={"code": code}, headers=csrf)
    assert again.status_code == 401
    with transaction(app.state.sessions) as db:
        step = db.scalars(select(Account.last_totp_step)).one()
    assert step is not None
    # a code of a later step (within the drift allowed) is accepted
    later = totp.code_for_step(secret, step + 1)
    assert (
        client.post("/api/auth/second-factor", json={"code": later}, headers=csrf).status_code
        == 200
    )


def _shift_session(app: FastAPI, **ago: dt.timedelta) -> None:
    """Move the session's times into the past."""
    now = dt.datetime.now(dt.UTC)
    values = {column: now - delta for column, delta in ago.items()}
    with transaction(app.state.sessions) as db:
        db.execute(update(WebSession).values(**values))


def test_an_idle_session_ends(app: FastAPI, client: TestClient) -> None:
    sign_in(client, app, "analyst", [])
    idle = dt.timedelta(minutes=app.state.settings.idle_minutes)
    _shift_session(app, last_seen_at=idle - dt.timedelta(minutes=2))
    assert client.get("/api/me").status_code == 200
    _shift_session(app, last_seen_at=idle + dt.timedelta(seconds=1))
    assert client.get("/api/me").status_code == 401
    with transaction(app.state.sessions) as db:
        assert db.scalars(select(WebSession.ended_at)).one() is not None


def test_a_session_ends_after_its_absolute_lifetime_however_busy(
    app: FastAPI, client: TestClient
) -> None:
    sign_in(client, app, "analyst", [])
    lifetime = dt.timedelta(hours=app.state.settings.absolute_hours)
    _shift_session(app, created_at=lifetime - dt.timedelta(minutes=1))
    assert client.get("/api/me").status_code == 200
    _shift_session(app, created_at=lifetime + dt.timedelta(seconds=1))
    assert client.get("/api/me").status_code == 401


def test_last_seen_is_written_at_most_once_a_minute(app: FastAPI, client: TestClient) -> None:
    sign_in(client, app, "analyst", [])
    _shift_session(app, last_seen_at=dt.timedelta(seconds=20))
    with transaction(app.state.sessions) as db:
        before = db.scalars(select(WebSession.last_seen_at)).one()
    client.get("/api/me")
    with transaction(app.state.sessions) as db:
        assert db.scalars(select(WebSession.last_seen_at)).one() == before
    _shift_session(app, last_seen_at=dt.timedelta(minutes=2))
    client.get("/api/me")
    with transaction(app.state.sessions) as db:
        seen = db.scalars(select(WebSession.last_seen_at)).one()
    assert dt.datetime.now(dt.UTC) - seen.replace(tzinfo=dt.UTC) < dt.timedelta(seconds=30)


def test_logout_ends_the_session(app: FastAPI, client: TestClient) -> None:
    csrf = sign_in(client, app, "analyst", [])
    token = client.cookies[COOKIE_NAME]
    assert client.post("/api/auth/logout").status_code == 403  # without its CSRF token
    answer = client.post("/api/auth/logout", headers={CSRF: csrf})
    assert answer.status_code == 204
    assert 'cb_session=""' in answer.headers["set-cookie"]
    with TestClient(app, cookies={COOKIE_NAME: token}) as replay:
        assert replay.get("/api/me").status_code == 401
    assert client.get("/api/auth/session").json() == {"stage": None, "csrf_token": None}


def test_a_deactivated_account_is_signed_out(app: FastAPI, client: TestClient) -> None:
    sign_in(client, app, "analyst", [], username="d.mensah")
    with transaction(app.state.sessions) as db:
        db.execute(update(Account).values(active=False))
    assert client.get("/api/me").status_code == 401


def test_a_hash_made_with_older_parameters_is_renewed_at_sign_in(
    app: FastAPI, client: TestClient
) -> None:
    username, password, secret = make_account(app, "analyst", [])
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    app.state.password_hasher = stronger
    _login(client, username, password)
    with transaction(app.state.sessions) as db:
        account = find_account(db, username)
        assert account is not None and account.password_hash is not None
        assert account.password_hash.startswith("$argon2id$v=19$m=2048,t=2,p=1$")
    assert not stronger.check_needs_rehash(account.password_hash)
