"""Login rate limits and lockout, without telling anyone whether a username exists; and the
trail of every sign-in, by account id and address only."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from casebridge.web.app import create_app
from casebridge.web.auth.limits import LoginKeyError, digest_key, digest_key_path, username_key
from casebridge.web.config import ServiceSettings
from casebridge.web.db import transaction
from casebridge.web.models import Account, LoginAttempt, TrailEntry
from tests.web.support import closing, current_code, make_account, use_fast_hasher

LOCKOUT_AFTER = 3


class CountingHasher(PasswordHasher):
    """The test hasher, counting how often a password is checked."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def app(service_settings: ServiceSettings) -> Iterator[FastAPI]:
    settings = service_settings.model_copy(
        update={"lockout_after": LOCKOUT_AFTER, "lockout_minutes": 15, "address_attempts": 10}
    )
    with closing(create_app(settings)) as made:
        use_fast_hasher(made)
        yield made


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _try(client: TestClient, username: str, password: str) -> Any:
    return client.post("/api/auth/login", json={"username": username, "password": password})


def test_an_unknown_username_and_a_wrong_password_get_the_same_answer_and_work(
    app: FastAPI, client: TestClient
) -> None:
    username, _password, _secret = make_account(app, "analyst", [])
    counting = CountingHasher()
    app.state.password_hasher = counting
    unknown = _try(client, "no.such.person", "a wrong password here")
    wrong = _try(client, username, "a wrong password here")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json() == {"detail": "sign-in not accepted"}
    assert "set-cookie" not in unknown.headers and "set-cookie" not in wrong.headers
    # the unknown username cost an argon2 check, as the wrong password did
    assert counting.verified == 2


def _lock(client: TestClient, username: str) -> None:
    for _ in range(LOCKOUT_AFTER):
        assert _try(client, username, "not the password at all").status_code == 401


def _age_attempts(app: FastAPI, minutes: int) -> None:
    with transaction(app.state.sessions) as db:
        for attempt in db.scalars(select(LoginAttempt)):
            attempt.at = attempt.at - dt.timedelta(minutes=minutes)


def test_an_account_locks_after_repeated_failures_and_unlocks_later(
    app: FastAPI, client: TestClient
) -> None:
    username, password, _secret = make_account(app, "analyst", [])
    _lock(client, username)
    refused = _try(client, username, password)
    assert refused.status_code == 429
    assert "set-cookie" not in refused.headers
    with transaction(app.state.sessions) as db:
        account = db.scalars(select(Account)).one()
        assert account.failed_logins == LOCKOUT_AFTER and account.locked_until is not None
    _age_attempts(app, 14)
    assert _try(client, username, password).status_code == 429
    _age_attempts(app, 2)
    assert _try(client, username, password).status_code == 200


def test_failures_spread_wider_than_the_window_do_not_lock(
    app: FastAPI, client: TestClient
) -> None:
    username, password, _secret = make_account(app, "analyst", [])
    for _ in range(LOCKOUT_AFTER - 1):
        _try(client, username, "not the password at all")
    _age_attempts(app, 16)
    _try(client, username, "not the password at all")
    assert _try(client, username, password).status_code == 200


def test_an_unknown_username_locks_exactly_as_an_account_does(client: TestClient) -> None:
    _lock(client, "Nobody.Here")
    assert _try(client, "nobody.here", "anything at all here").status_code == 429


def test_wrong_second_factor_codes_count_towards_the_lock(app: FastAPI, client: TestClient) -> None:
    username, password, secret = make_account(app, "analyst", [])
    for _ in range(LOCKOUT_AFTER):
        csrf = {"X-CSRF-Token": _try(client, username, password).json()["csrf_token"]}
        wrong = client.post("/api/auth/second-factor", json={"code": "12345x"}, headers=csrf)
        assert wrong.status_code == 401
    right = client.post(
        "/api/auth/second-factor", json={"code": current_code(secret)}, headers=csrf
    )
    assert right.status_code == 429
    assert _try(client, username, password).status_code == 429


def test_an_address_must_wait_after_many_failures_across_usernames(
    client: TestClient, app: FastAPI
) -> None:
    username, password, _secret = make_account(app, "analyst", [])
    for number in range(10):
        assert _try(client, f"someone.{number}", "a wrong password here").status_code == 401
    assert _try(client, username, password).status_code == 429


def test_attempts_keep_a_digest_of_the_typed_name_never_the_name(
    app: FastAPI, client: TestClient
) -> None:
    _try(client, "Typed.Name", "a wrong password here")
    with transaction(app.state.sessions) as db:
        attempt = db.scalars(select(LoginAttempt)).one()
    workspace = app.state.settings.workspace
    assert attempt.username == username_key("typed.name", workspace)
    assert "typed" not in attempt.username.lower()
    assert attempt.remote_addr == "testclient" and attempt.succeeded is False
    # keyed outside the database: the digest is not one anyone can recompute from the name
    plain = (hashlib.sha256(b"typed.name").hexdigest(),
             hashlib.sha256(b"casebridge-login:typed.name").hexdigest())  # fmt: skip
    assert attempt.username not in plain


def test_the_digest_key_is_the_owners_alone_and_one_per_workspace(
    app: FastAPI, tmp_path: Path
) -> None:
    workspace = app.state.settings.workspace
    path = digest_key_path(workspace)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert digest_key(workspace) == path.read_bytes()  # made once, then read
    other = tmp_path / "another-workspace"
    other.mkdir()
    assert username_key("typed.name", other) != username_key("typed.name", workspace)


def test_a_damaged_digest_key_is_one_line_saying_what_to_do(tmp_path: Path) -> None:
    path = digest_key_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"too short")
    with pytest.raises(LoginKeyError, match="remove it"):
        username_key("typed.name", tmp_path)


def test_every_sign_in_is_in_the_trail_by_account_id_and_address(
    app: FastAPI, client: TestClient
) -> None:
    username, password, secret = make_account(app, "analyst", [])
    _try(client, "somebody.else", "a wrong password here")
    _try(client, username, "a wrong password here")
    csrf = {"X-CSRF-Token": _try(client, username, password).json()["csrf_token"]}
    client.post("/api/auth/second-factor", json={"code": current_code(secret)}, headers=csrf)
    with transaction(app.state.sessions) as db:
        account_id = db.scalars(select(Account.id)).one()
        entries = db.scalars(select(TrailEntry).order_by(TrailEntry.seq)).all()
    seen = [(e.action, e.account_id, json.loads(e.subject_ids), e.remote_addr) for e in entries]
    assert seen == [
        ("sign_in.failed", None, [], "testclient"),
        ("sign_in.failed", None, [str(account_id)], "testclient"),
        ("sign_in.password_accepted", account_id, [str(account_id)], "testclient"),
        ("sign_in.second_factor_accepted", account_id, [str(account_id)], "testclient"),
    ]
    for entry in entries:
        assert username not in f"{entry.reason} {entry.subject_ids}"
        assert "somebody" not in f"{entry.reason} {entry.subject_ids}"


def test_an_inactive_account_is_refused_like_an_unknown_one(
    app: FastAPI, client: TestClient
) -> None:
    username, password, _secret = make_account(app, "analyst", [])
    with transaction(app.state.sessions) as db:
        db.execute(update(Account).values(active=False))
    answer = _try(client, username, password)
    assert answer.status_code == 401
    assert answer.json() == {"detail": "sign-in not accepted"}


def test_a_successful_sign_in_resets_the_count(app: FastAPI, client: TestClient) -> None:
    username, password, secret = make_account(app, "analyst", [])
    for _ in range(LOCKOUT_AFTER - 1):
        _try(client, username, "not the password at all")
    csrf = {"X-CSRF-Token": _try(client, username, password).json()["csrf_token"]}
    client.post("/api/auth/second-factor", json={"code": current_code(secret)}, headers=csrf)
    for _ in range(LOCKOUT_AFTER - 1):
        _try(client, username, "not the password at all")
    assert _try(client, username, password).status_code == 200


JSON = {"Content-Type": "application/json"}
HOSTILE = [
    "\x00",
    "\ud800",
    "a\udfffb",
    "<script>alert(1)</script>",
    "'; DROP TABLE account; --",
    '=HYPERLINK("http://x")',
    "\u202eevil\u202c",
    "x" * 200,
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_at_the_login_is_refused_cleanly(
    app: FastAPI, client: TestClient, hostile: str
) -> None:
    username, password, _secret = make_account(app, "analyst", [])
    for body in (
        {"username": hostile, "password": password},
        {"username": username, "password": hostile},
    ):
        # json.dumps escapes a lone surrogate as \\udXXX, as a hostile client would send it
        answer = client.post("/api/auth/login", content=json.dumps(body), headers=JSON)
        assert answer.status_code in (401, 422), answer.text
        assert "Traceback" not in answer.text
    assert _try(client, username, password).status_code == 200


def test_a_refused_body_is_not_echoed_back(client: TestClient) -> None:
    secret_password = "my real password is this one " * 40
    answer = _try(client, "someone", secret_password)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "password"]
    assert "my real password" not in answer.text
