"""The accounts a service starts with: the first administrator (announced once, must enrol and
change its password), and the demo's accounts of each role, scoped from the workspace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from casebridge import cli
from casebridge.web import serve
from casebridge.web.auth import bootstrap, install
from casebridge.web.config import DATABASE_URL_VARIABLE, ServiceSettings
from casebridge.web.db import transaction
from casebridge.web.models import Account, TrailEntry
from casebridge.web.permissions import Role
from casebridge.workspace import SourceSettings
from tests.web.support import FAST_HASHER, use_fast_hasher

# invented agencies, one of each kind the demo's scopes are built from
WORKSPACE_SETTINGS = """\
name = "bootstrap test"

[[sources]]
key = "force_x"
agency = "Fernbrook Constabulary"
kind = "police"
path = "extracts/force_x.csv"
mapping = "mappings/force_x.yaml"

[[sources]]
key = "force_y"
agency = "Harbourside Police"
kind = "police"
path = "extracts/force_y.csv"
mapping = "mappings/force_y.yaml"

[[sources]]
key = "council"
agency = "Fernbrook City Council"
kind = "social_care"
path = "extracts/council.tsv"
mapping = "mappings/council.yaml"

[[sources]]
key = "trust"
agency = "Fernbrook Health Trust"
kind = "health"
path = "extracts/trust.csv"
mapping = "mappings/trust.yaml"
"""
ALL_AGENCIES = (
    "Fernbrook Constabulary",
    "Harbourside Police",
    "Fernbrook City Council",
    "Fernbrook Health Trust",
)


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Applications made inside the code under test hash with the cheap test parameters."""
    monkeypatch.setattr(install, "default_hasher", lambda: FAST_HASHER)


@pytest.fixture
def opened() -> Iterator[list[FastAPI]]:
    """Applications a test opens, their database connections closed after it."""
    apps: list[FastAPI] = []
    yield apps
    for app in apps:
        app.state.engine.dispose()


def _fast(app: FastAPI, opened: list[FastAPI]) -> FastAPI:
    use_fast_hasher(app)
    opened.append(app)
    return app


def _workspace(settings: ServiceSettings) -> ServiceSettings:
    (settings.workspace / "casebridge.toml").write_text(WORKSPACE_SETTINGS, encoding="utf-8")
    return settings


def test_the_first_start_makes_one_administrator_and_says_so_once(
    service_settings: ServiceSettings, opened: list[FastAPI]
) -> None:
    said: list[str] = []
    app = _fast(serve.prepare(service_settings, said.append), opened)
    assert len(said) == 1
    assert "username:           admin" in said[0]
    with transaction(app.state.sessions) as db:
        admin = db.scalars(select(Account)).one()
        entry = db.scalars(select(TrailEntry)).one()
    password = said[0].split("one-time password:")[1].split()[0]
    assert admin.role == "administrator" and admin.must_change_password
    assert not admin.totp_confirmed and admin.password_hash != password
    assert (entry.action, entry.account_id, entry.subject_ids) == (
        "account.created",
        None,
        f'["{admin.id}"]',
    )
    _fast(serve.prepare(service_settings, said.append), opened)
    assert len(said) == 1


def test_the_first_administrator_enrols_and_changes_its_password_then_manages_accounts(
    service_settings: ServiceSettings, opened: list[FastAPI]
) -> None:
    app = _fast(serve.create_app(service_settings), opened)
    first = bootstrap.create_first_administrator(app.state.sessions, FAST_HASHER)
    assert first is not None and first.username == "admin"
    assert bootstrap.create_first_administrator(app.state.sessions, FAST_HASHER) is None
    with TestClient(app) as client:
        login = {"username": first.username, "password": first.one_time_password}
        step = client.post("/api/auth/login", json=login).json()
        headers = {"X-CSRF-Token": step["csrf_token"]}
        assert step["next"] == "enrol_second_factor"
        assert client.get("/api/accounts").status_code == 401
        secret = client.post("/api/auth/second-factor/enrol", headers=headers).json()["secret"]
        code = {"code": pyotp.TOTP(secret).now()}
        step = client.post("/api/auth/second-factor", json=code, headers=headers).json()
        assert step["next"] == "change_password"
        assert client.get("/api/accounts").status_code == 401
        chosen = {"new_password": "the administrator's own passphrase"}
        step = client.post("/api/auth/new-password", json=chosen, headers=headers).json()
        assert step["next"] == "complete"
        assert client.get("/api/accounts").status_code == 200


def _source(key: str, agency: str, kind: str) -> SourceSettings:
    return SourceSettings.model_validate(
        {"key": key, "agency": agency, "kind": kind, "path": "x.csv", "mapping": "x.yaml"}
    )


def test_demo_scopes_follow_the_sources_kinds() -> None:
    sources = [
        _source("dtr", "Duty reports", "duty_report"),
        _source("force_x", "Fernbrook Constabulary", "police"),
        _source("council", "Fernbrook City Council", "social_care"),
        _source("force_x2", "Fernbrook Constabulary", "police"),
    ]
    scopes = bootstrap.demo_scopes(sources)
    everyone = ("Duty reports", "Fernbrook Constabulary", "Fernbrook City Council")
    assert scopes == {
        Role.ANALYST: everyone,
        Role.REVIEWER: ("Fernbrook Constabulary",),
        Role.SUPERVISOR: ("Fernbrook Constabulary", "Fernbrook City Council"),
        Role.AUDITOR: everyone,
        Role.ADMINISTRATOR: (),
    }
    without_police = bootstrap.demo_scopes(sources[:1])
    assert without_police[Role.REVIEWER] == ("Duty reports",)


def _signs_in(app: FastAPI, account: bootstrap.DemoAccount) -> dict[str, object]:
    with TestClient(app) as client:
        login = {"username": account.username, "password": account.password}
        answer = client.post("/api/auth/login", json=login)
        if answer.status_code != 200:
            return {}
        code = {"code": pyotp.TOTP(account.totp_secret).now()}
        headers = {"X-CSRF-Token": answer.json()["csrf_token"]}
        client.post("/api/auth/second-factor", json=code, headers=headers)
        me: dict[str, object] = client.get("/api/me").json()
        return me


def test_demo_accounts_of_every_role_sign_in_with_what_is_printed(
    service_settings: ServiceSettings, opened: list[FastAPI]
) -> None:
    settings = _workspace(service_settings)
    said: list[str] = []
    app = _fast(serve.prepare_demo(settings.workspace, "127.0.0.1", 8123, said.append), opened)
    with transaction(app.state.sessions) as db:
        usernames = set(db.scalars(select(Account.username)))
    assert usernames == {f"demo-{role.value}" for role in Role}
    # made again with the cheap test hasher, so that five sign-ins stay fast
    made = bootstrap.create_demo_accounts(app.state.sessions, FAST_HASHER, settings.workspace)
    assert [account.role for account in made] == list(Role)
    for account in made:
        me = _signs_in(app, account)
        assert me["role"] == account.role.value
        assert tuple(sorted(me["scopes"])) == tuple(sorted(account.scopes))  # type: ignore[arg-type]
    assert "http://127.0.0.1:8123/" in said[0]
    reviewer = next(a for a in made if a.role is Role.REVIEWER)
    assert reviewer.scopes == ("Fernbrook Constabulary",)


def test_demo_accounts_made_again_get_new_passwords(
    service_settings: ServiceSettings, opened: list[FastAPI]
) -> None:
    settings = _workspace(service_settings)
    app = _fast(serve.create_app(settings), opened)
    first = bootstrap.create_demo_accounts(app.state.sessions, FAST_HASHER, settings.workspace)
    again = bootstrap.create_demo_accounts(app.state.sessions, FAST_HASHER, settings.workspace)
    assert {a.password for a in first}.isdisjoint(a.password for a in again)
    assert _signs_in(app, first[0]) == {}
    assert _signs_in(app, again[0])["role"] == "analyst"


@pytest.fixture
def quiet_uvicorn(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """uvicorn.run replaced: the address it was asked to serve on is noted instead."""
    served: list[tuple[str, int]] = []

    def run(app: FastAPI, host: str, port: int, **_: object) -> None:
        served.append((host, port))
        app.state.engine.dispose()

    monkeypatch.setattr(serve.uvicorn, "run", run)
    return served


def test_casebridge_serve_prints_the_first_administrator(
    service_settings: ServiceSettings,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    quiet_uvicorn: list[tuple[str, int]],
) -> None:
    settings = _workspace(service_settings)
    monkeypatch.setenv(DATABASE_URL_VARIABLE, database_url)
    command = ["serve", "--workspace", str(settings.workspace), "--port", "8124"]
    result = CliRunner().invoke(cli.app, command)
    assert result.exit_code == 0, result.output
    assert "one-time password:" in result.output
    assert quiet_uvicorn == [("127.0.0.1", 8124)]
    again = CliRunner().invoke(cli.app, command)
    assert "one-time password" not in again.output


def test_casebridge_demo_serve_prints_every_demo_account(
    service_settings: ServiceSettings,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    quiet_uvicorn: list[tuple[str, int]],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv(DATABASE_URL_VARIABLE, database_url)

    def fake_synth(out: Path, **_: object) -> None:
        out.mkdir(parents=True)
        (out / "casebridge.toml").write_text(WORKSPACE_SETTINGS, encoding="utf-8")

    monkeypatch.setattr(cli, "synth", fake_synth)
    monkeypatch.setattr(cli, "_run", lambda workspace, out: None)
    result = CliRunner().invoke(cli.app, ["demo", "--out", str(tmp_path / "demo"), "--serve"])
    assert result.exit_code == 0, result.output
    for role in Role:
        assert f"demo-{role.value}" in result.output
    assert "TOTP secret" in result.output and quiet_uvicorn == [("127.0.0.1", 8000)]
    assert all(agency in result.output for agency in ALL_AGENCIES)
