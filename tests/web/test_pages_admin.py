"""The administration pages through the test client, on SQLite and PostgreSQL: the accounts
list, a new account and its one-time password shown once, a role and agencies changed, a second
factor and a password reset, an account deactivated; each change a trail entry naming the
account by its id; an administrator's own role and account refused; other roles refused (403),
an account that does not exist a 404 page; hostile values escaped."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from casebridge.web.auth.csrf import CSRF_HEADER
from casebridge.web.config import ServiceSettings
from casebridge.web.models import Account, TrailEntry
from tests.web.casework_world import (
    NORTHSHIRE,
    PLANTED_AGENCY,
    World,
    built_world,
    page_login,
    serving,
)

PASSWORD = re.compile(r'id="one-time-password">([^<]+)<')
SCRIPT = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return built_world(tmp_path_factory.mktemp)


@pytest.fixture
def served(service_settings: ServiceSettings, world: World) -> Iterator[FastAPI]:
    with serving(service_settings, world) as app:
        yield app


def trail_of(app: FastAPI, action: str) -> list[TrailEntry]:
    with app.state.sessions() as db:
        return list(db.scalars(select(TrailEntry).where(TrailEntry.action == action)))


def account_named(app: FastAPI, username: str) -> Account:
    with app.state.sessions() as db:
        return db.scalars(select(Account).where(Account.username == username)).one()


def test_an_administrator_makes_changes_and_resets_an_account(served: FastAPI) -> None:
    with TestClient(served) as client:
        me, token = page_login(client, served, "administrator")
        listed = client.get("/admin/accounts")
        assert listed.status_code == 200 and "(you)" in listed.text
        assert 'href="/admin/accounts"' in listed.text  # in the navigation
        form = client.get("/admin/accounts/new")
        assert form.status_code == 200 and "Agencies the account may see" in form.text
        made = client.post(
            "/admin/accounts",
            data={
                "username": "j.okafor",
                "role": "reviewer",
                "scopes": [NORTHSHIRE],
                "other_agencies": f"{PLANTED_AGENCY}\n",
                "csrf_token": token,
            },
        )
        assert made.status_code == 201, made.text
        password = PASSWORD.search(made.text)
        assert password and "This is the only time it is shown" in made.text
        account = account_named(served, "j.okafor")
        # the one-time password works, and the account must enrol at its first sign-in
        with TestClient(served) as owner:
            step = owner.post(
                "/api/auth/login", json={"username": "j.okafor", "password": password.group(1)}
            )
            assert step.json()["next"] == "enrol_second_factor"
        page = client.get(f"/admin/accounts/{account.id}")
        assert page.status_code == 200 and "never" in page.text
        assert f"{NORTHSHIRE}, {PLANTED_AGENCY}" in page.text
        changed = client.post(
            f"/admin/accounts/{account.id}",
            data={"role": "supervisor", "scopes": [NORTHSHIRE], "csrf_token": token},
            follow_redirects=False,
        )
        assert changed.status_code == 303
        shown = client.get(changed.headers["location"])
        assert "The role and agencies are saved." in shown.text
        assert 'id="current-role">Supervisor<' in shown.text
        assert f'id="current-scopes">{NORTHSHIRE}<' in shown.text
        reset = client.post(
            f"/admin/accounts/{account.id}/reset-second-factor", data={"csrf_token": token}
        )
        assert "second factor is reset" in reset.text
        new_password = client.post(
            f"/admin/accounts/{account.id}/reset-password", data={"csrf_token": token}
        )
        again = PASSWORD.search(new_password.text)
        assert again and again.group(1) != password.group(1)
        off = client.post(f"/admin/accounts/{account.id}/deactivate", data={"csrf_token": token})
        assert 'id="current-active">no<' in off.text
    assert not account_named(served, "j.okafor").active
    for action in (
        "account.created",
        "account.role_changed",
        "account.scopes_changed",
        "account.second_factor_reset",
        "account.password_reset",
        "account.deactivated",
    ):
        [entry] = trail_of(served, action)[-1:]
        assert entry.account_id == me and json.loads(entry.subject_ids) == [str(account.id)]
        assert entry.reason is None and "okafor" not in entry.subject_ids


def test_an_administrator_cannot_change_their_own_role_or_deactivate_themselves(
    served: FastAPI,
) -> None:
    with TestClient(served) as client:
        me, token = page_login(client, served, "administrator")
        own = client.get(f"/admin/accounts/{me}")
        assert "You cannot change your own role" in own.text and 'id="deactivate"' not in own.text
        demoted = client.post(
            f"/admin/accounts/{me}", data={"role": "analyst", "csrf_token": token}
        )
        assert demoted.status_code == 409 and "cannot change your own role" in demoted.text
        gone = client.post(f"/admin/accounts/{me}/deactivate", data={"csrf_token": token})
        assert gone.status_code == 409 and "cannot deactivate your own account" in gone.text
        # the API refuses the same, with the same words
        api = client.post(f"/api/accounts/{me}/deactivate", headers={CSRF_HEADER: token})
        assert api.status_code == 409 and "your own account" in api.json()["detail"]
        # one's own agencies may change (the role is kept as it is)
        kept = client.post(
            f"/admin/accounts/{me}",
            data={"role": "administrator", "scopes": [NORTHSHIRE], "csrf_token": token},
            follow_redirects=False,
        )
        assert kept.status_code == 303
    assert account_named_id(served, me).role == "administrator"
    assert [e for e in trail_of(served, "account.role_changed") if e.account_id == me] == []
    assert [e for e in trail_of(served, "account.deactivated") if e.account_id == me] == []


def account_named_id(app: FastAPI, account_id: int) -> Account:
    with app.state.sessions() as db:
        found = db.get(Account, account_id)
        assert found is not None
        return found


def test_forms_refused_say_why_without_echoing_and_need_their_token(served: FastAPI) -> None:
    with TestClient(served) as client:
        _, token = page_login(client, served, "administrator")
        fields = {"role": "analyst", "csrf_token": token}
        bad = client.post("/admin/accounts", data={**fields, "username": "<b>no</b>"})
        assert bad.status_code == 422 and "a username has 3 to 64 characters" in bad.text
        assert "<b>no</b>" not in bad.text
        client.post("/admin/accounts", data={**fields, "username": "d.twice"})
        twice = client.post("/admin/accounts", data={**fields, "username": "d.twice"})
        assert twice.status_code == 409 and "an account with this username exists" in twice.text
        role = client.post("/admin/accounts", data={**fields, "username": "e.x", "role": "king"})
        assert role.status_code == 422
        unsigned = client.post("/admin/accounts", data={"username": "f.forged", "role": "analyst"})
        assert unsigned.status_code == 403
        missing = client.get("/admin/accounts/999999")
        assert missing.status_code == 404 and "Not found" in missing.text
        beyond = client.post(f"/admin/accounts/{2**63}/deactivate", data={"csrf_token": token})
        assert beyond.status_code == 422
        nobody = client.post("/admin/accounts/999999/reset-password", data={"csrf_token": token})
        assert nobody.status_code == 404
    assert trail_of(served, "account.password_reset") == []


@pytest.mark.parametrize("role", ["analyst", "reviewer", "supervisor", "auditor"])
def test_other_roles_may_not_administer(served: FastAPI, role: str) -> None:
    with TestClient(served) as client:
        _, token = page_login(client, served, role, NORTHSHIRE)
        assert 'href="/admin/accounts"' not in client.get("/account").text
        assert client.get("/admin/accounts").status_code == 403
        assert client.get("/admin/accounts/1").status_code == 403
        posted = client.post("/admin/accounts/1/deactivate", data={"csrf_token": token})
        assert posted.status_code == 403 and "Not allowed" in posted.text
    with TestClient(served) as anonymous:
        assert anonymous.get("/admin/accounts", follow_redirects=False).status_code == 401


def test_hostile_names_and_agencies_are_escaped(served: FastAPI) -> None:
    with TestClient(served) as client:
        _, token = page_login(client, served, "administrator")
        made = client.post(
            "/admin/accounts",
            data={
                "username": "h.hostile",
                "display_name": SCRIPT,
                "role": "analyst",
                "other_agencies": '=HYPERLINK("x") <img src=x onerror=alert(1)>',
                "csrf_token": token,
            },
        )
        assert made.status_code == 201
        account = account_named(served, "h.hostile")
        for page in (client.get("/admin/accounts"), client.get(f"/admin/accounts/{account.id}")):
            assert "<img src=x" not in page.text and SCRIPT not in page.text
            assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
        assert "&lt;script&gt;" in client.get(f"/admin/accounts/{account.id}").text
