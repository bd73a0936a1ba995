"""The accounts API: one's own account for everyone, the rest for administrators only; every
write in the trail by account id, never by name or password."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from casebridge.web.app import create_app
from casebridge.web.auth import accounts, totp
from casebridge.web.config import ServiceSettings
from casebridge.web.db import transaction
from casebridge.web.models import Account, TrailEntry
from casebridge.web.permissions import Role
from tests.web.support import closing, make_account, sign_in, use_fast_hasher

CSRF = "X-CSRF-Token"
AGENCIES = ["Northshire Police", "Northshire County Council"]


@pytest.fixture
def app(service_settings: ServiceSettings) -> Iterator[FastAPI]:
    with closing(create_app(service_settings)) as made:
        use_fast_hasher(made)
        yield made


@pytest.fixture
def admin(app: FastAPI) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A client signed in as an administrator, and the header with its CSRF token."""
    with TestClient(app) as client:
        token = sign_in(client, app, "administrator", [], username="site.admin")
        yield client, {CSRF: token}


def _trail(app: FastAPI) -> list[TrailEntry]:
    with transaction(app.state.sessions) as db:
        return list(db.scalars(select(TrailEntry).order_by(TrailEntry.seq)))


def _id_of(client: TestClient, username: str) -> int:
    listed = client.get("/api/accounts").json()
    found: int = next(account["id"] for account in listed if account["username"] == username)
    return found


def _create(client: TestClient, headers: dict[str, str], **fields: object) -> dict[str, object]:
    body = {"username": "t.nwosu", "role": "reviewer", "scopes": AGENCIES[:1], **fields}
    answer = client.post("/api/accounts", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    made: dict[str, object] = answer.json()
    return made


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_me_gives_username_role_and_scopes_only(app: FastAPI, role: str) -> None:
    with TestClient(app) as client:
        sign_in(client, app, role, AGENCIES, username="p.achebe")
        assert client.get("/api/me").json() == {
            "username": "p.achebe",
            "role": role,
            "scopes": sorted(AGENCIES),
        }


@pytest.mark.parametrize("role", ["analyst", "reviewer", "supervisor", "auditor"])
def test_only_administrators_manage_accounts(app: FastAPI, role: str) -> None:
    with TestClient(app) as client:
        headers = {CSRF: sign_in(client, app, role, AGENCIES)}
        assert client.get("/api/accounts").status_code == 403
        body = {"username": "x.someone", "role": "administrator", "scopes": []}
        assert client.post("/api/accounts", json=body, headers=headers).status_code == 403
        assert client.post("/api/accounts/1/reset-password", headers=headers).status_code == 403


def test_an_administrator_creates_an_account_that_must_enrol_and_change_its_password(
    app: FastAPI, admin: tuple[TestClient, dict[str, str]]
) -> None:
    client, headers = admin
    made = _create(client, headers, display_name="T. Nwosu")
    account = made["account"]
    assert isinstance(account, dict)
    assert account["role"] == "reviewer" and account["scopes"] == AGENCIES[:1]
    assert account["second_factor_enrolled"] is False and account["must_change_password"] is True
    listed = client.get("/api/accounts").json()
    assert [entry["username"] for entry in listed] == ["site.admin", "t.nwosu"]

    with TestClient(app) as newcomer:
        login = {"username": "t.nwosu", "password": made["one_time_password"]}
        step = newcomer.post("/api/auth/login", json=login).json()
        assert step["next"] == "enrol_second_factor"
    entry = _trail(app)[-1]
    assert entry.action == "sign_in.password_accepted"
    created = next(e for e in _trail(app) if e.action == "account.created")
    assert json.loads(created.subject_ids) == [str(account["id"])]
    assert created.subject_kind == "account"


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"username": "ab"}, 422),
        ({"username": "has space"}, 422),
        ({"username": "<script>alert(1)</script>"}, 422),
        ({"role": "superuser"}, 422),
        ({"scopes": [""]}, 422),
        ({"scopes": ["x" * 201]}, 422),
        ({"username": "SITE.ADMIN"}, 409),
    ],
)
def test_a_bad_new_account_is_refused_with_a_short_reason(
    admin: tuple[TestClient, dict[str, str]], fields: dict[str, object], status: int
) -> None:
    client, headers = admin
    body = {"username": "t.nwosu", "role": "reviewer", "scopes": [], **fields}
    answer = client.post("/api/accounts", json=body, headers=headers)
    assert answer.status_code == status
    assert "Traceback" not in answer.text


def test_role_and_scopes_change_and_the_account_s_sessions_end_with_its_role(
    app: FastAPI, admin: tuple[TestClient, dict[str, str]]
) -> None:
    client, headers = admin
    with TestClient(app) as reviewer:
        sign_in(reviewer, app, "reviewer", AGENCIES[:1], username="m.diallo")
        account_id = _id_of(client, "m.diallo")
        scoped = client.patch(
            f"/api/accounts/{account_id}", json={"scopes": AGENCIES}, headers=headers
        )
        assert scoped.json()["scopes"] == sorted(AGENCIES)
        assert reviewer.get("/api/me").json()["scopes"] == sorted(AGENCIES)
        promoted = client.patch(
            f"/api/accounts/{account_id}", json={"role": "supervisor"}, headers=headers
        )
        assert promoted.json()["role"] == "supervisor"
        assert reviewer.get("/api/me").status_code == 401
    actions = [(e.action, e.subject_ids) for e in _trail(app)[-2:]]
    assert actions == [
        ("account.scopes_changed", f'["{account_id}"]'),
        ("account.role_changed", f'["{account_id}"]'),
    ]


def test_deactivating_ends_the_account_s_sessions(
    app: FastAPI, admin: tuple[TestClient, dict[str, str]]
) -> None:
    client, headers = admin
    with TestClient(app) as analyst:
        sign_in(analyst, app, "analyst", [], username="s.kowalski")
        account_id = _id_of(client, "s.kowalski")
        answer = client.post(f"/api/accounts/{account_id}/deactivate", headers=headers)
        assert answer.json()["active"] is False
        assert analyst.get("/api/me").status_code == 401
    assert _trail(app)[-1].action == "account.deactivated"


def test_the_last_administrator_cannot_be_removed_or_demoted(
    app: FastAPI, admin: tuple[TestClient, dict[str, str]]
) -> None:
    client, headers = admin
    own_id = _id_of(client, "site.admin")
    refused = client.post(f"/api/accounts/{own_id}/deactivate", headers=headers)
    assert refused.status_code == 409
    assert "your own account" in refused.json()["detail"]
    demoted = client.patch(f"/api/accounts/{own_id}", json={"role": "analyst"}, headers=headers)
    assert demoted.status_code == 409 and "your own role" in demoted.json()["detail"]
    same = client.patch(f"/api/accounts/{own_id}", json={"role": "administrator"}, headers=headers)
    assert same.status_code == 200  # no change of role: nothing to refuse
    second = _create(client, headers, username="b.second", role="administrator")["account"]
    assert isinstance(second, dict)
    answer = client.post(f"/api/accounts/{second['id']}/deactivate", headers=headers)
    assert answer.status_code == 200
    with transaction(app.state.sessions) as db:  # the last one, whoever asks
        last = db.get(Account, own_id)
        assert last is not None
        with pytest.raises(accounts.AccountConflictError, match="last active administrator"):
            accounts.deactivate(db, last, dt.datetime.now(dt.UTC))
    assert [e.action for e in _trail(app)].count("account.deactivated") == 1


def test_an_account_s_last_sign_in_is_listed(
    app: FastAPI, admin: tuple[TestClient, dict[str, str]]
) -> None:
    client, headers = admin
    made = _create(client, headers, username="n.never")["account"]
    assert isinstance(made, dict) and made["last_sign_in"] is None
    listed = {a["username"]: a for a in client.get("/api/accounts").json()}
    signed = dt.datetime.fromisoformat(listed["site.admin"]["last_sign_in"])
    assert abs(signed - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert listed["n.never"]["last_sign_in"] is None


def test_resetting_the_second_factor_makes_the_account_enrol_again(
    app: FastAPI, admin: tuple[TestClient, dict[str, str]]
) -> None:
    client, headers = admin
    made = _create(client, headers)
    account = made["account"]
    assert isinstance(account, dict)
    with TestClient(app) as owner:
        login = {"username": "t.nwosu", "password": made["one_time_password"]}
        owner_headers = {CSRF: owner.post("/api/auth/login", json=login).json()["csrf_token"]}
        secret = owner.post("/api/auth/second-factor/enrol", headers=owner_headers).json()["secret"]
        code = {"code": pyotp.TOTP(secret).now()}
        owner.post("/api/auth/second-factor", json=code, headers=owner_headers)
        reset = client.post(f"/api/accounts/{account['id']}/reset-second-factor", headers=headers)
        assert reset.json()["second_factor_enrolled"] is False
        assert owner.get("/api/auth/session").json()["stage"] is None
        step = owner.post("/api/auth/login", json=login).json()
        assert step["next"] == "enrol_second_factor"
    assert "account.second_factor_reset" in [e.action for e in _trail(app)]


def test_resetting_a_password_issues_a_one_time_password_and_lifts_a_lock(
    app: FastAPI, admin: tuple[TestClient, dict[str, str]]
) -> None:
    client, headers = admin
    account = _create(client, headers)["account"]
    assert isinstance(account, dict)
    with TestClient(app) as owner:
        for _ in range(app.state.settings.lockout_after):
            owner.post("/api/auth/login", json={"username": "t.nwosu", "password": "a wrong one!"})
        assert client.get(f"/api/accounts/{account['id']}").json()["locked"] is True
        answer = client.post(f"/api/accounts/{account['id']}/reset-password", headers=headers)
        password = answer.json()["one_time_password"]
        assert client.get(f"/api/accounts/{account['id']}").json()["locked"] is False
        step = owner.post("/api/auth/login", json={"username": "t.nwosu", "password": password})
        assert step.status_code == 200
    entry = _trail(app)[-2]
    assert entry.action == "account.password_reset"
    assert password not in f"{entry.reason} {entry.subject_ids}"


def test_an_unknown_or_absurd_account_id_is_not_found_or_refused(
    admin: tuple[TestClient, dict[str, str]],
) -> None:
    client, headers = admin
    assert client.get("/api/accounts/999").status_code == 404
    assert client.post("/api/accounts/999/deactivate", headers=headers).status_code == 404
    assert client.get(f"/api/accounts/{2**63}").status_code == 422
    assert client.get("/api/accounts/0").status_code == 422


def _signed_in(client: TestClient, username: str, password: str, code: str) -> dict[str, str]:
    login = {"username": username, "password": password}
    headers = {CSRF: client.post("/api/auth/login", json=login).json()["csrf_token"]}
    answer = client.post("/api/auth/second-factor", json={"code": code}, headers=headers)
    assert answer.json()["next"] == "complete"
    return headers


def test_changing_one_s_own_password_needs_the_current_one_and_ends_other_sessions(
    app: FastAPI,
) -> None:
    username, password, secret = make_account(app, "reviewer", [])
    step = totp.time_step(dt.datetime.now(dt.UTC))
    with TestClient(app) as client, TestClient(app) as elsewhere:
        headers = _signed_in(client, username, password, totp.code_for_step(secret, step))
        _signed_in(elsewhere, username, password, totp.code_for_step(secret, step + 1))
        change = {"current_password": "not the password", "new_password": "a new passphrase"}
        assert client.post("/api/me/password", json=change, headers=headers).status_code == 403
        change = {"current_password": password, "new_password": username}
        weak = client.post("/api/me/password", json=change, headers=headers)
        assert weak.status_code == 422
        assert weak.json() == {"detail": "a password may not be the account's username"}
        change = {"current_password": password, "new_password": "a new passphrase"}
        assert client.post("/api/me/password", json=change, headers=headers).status_code == 204
        assert client.get("/api/me").status_code == 200
        assert elsewhere.get("/api/me").status_code == 401
        login = {"username": username, "password": "a new passphrase"}
        assert elsewhere.post("/api/auth/login", json=login).status_code == 200
    actions = [e.action for e in _trail(app)]
    assert "account.password_change_refused" in actions
    assert "account.password_changed" in actions


def test_an_administrator_maps_an_account_to_an_oidc_subject_once(
    app: FastAPI, admin: tuple[TestClient, dict[str, str]]
) -> None:
    client, headers = admin
    first = _create(client, headers, username="f.first")["account"]
    second = _create(client, headers, username="s.second")["account"]
    assert isinstance(first, dict) and isinstance(second, dict)
    mapped = client.patch(
        f"/api/accounts/{first['id']}", json={"oidc_subject": "248289761001"}, headers=headers
    )
    assert mapped.json()["oidc_subject"] == "248289761001"
    clash = client.patch(
        f"/api/accounts/{second['id']}", json={"oidc_subject": "248289761001"}, headers=headers
    )
    assert clash.status_code == 409
    cleared = client.patch(
        f"/api/accounts/{first['id']}", json={"oidc_subject": ""}, headers=headers
    )
    assert cleared.json()["oidc_subject"] is None
    assert _trail(app)[-1].action == "account.oidc_subject_changed"


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"display_name": "\x00"}, 422),
        ({"display_name": "\ud800"}, 422),
        ({"scopes": ["Fernbrook\x00"]}, 422),
        ({"username": "ab\x00cd"}, 422),
        ({"display_name": "<script>alert(1)</script>"}, 201),
        ({"display_name": "\u202eevil\u202c =cmd|' /C calc'!A0"}, 201),
        ({"scopes": ["'; DROP TABLE account_scope; --"]}, 201),
    ],
)
def test_hostile_account_values_are_refused_or_kept_as_they_are(
    admin: tuple[TestClient, dict[str, str]], fields: dict[str, object], status: int
) -> None:
    client, headers = admin
    body = {"username": "h.ostile", "role": "reviewer", "scopes": [], **fields}
    # json.dumps escapes a lone surrogate as \\udXXX, as a hostile client would send it
    sent = {"Content-Type": "application/json", **headers}
    answer = client.post("/api/accounts", content=json.dumps(body), headers=sent)
    assert answer.status_code == status, answer.text
    if status == 201:
        account = answer.json()["account"]
        for name, value in fields.items():
            assert account[name] == value
        assert answer.headers["content-type"] == "application/json"
