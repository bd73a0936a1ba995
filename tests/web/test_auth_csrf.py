"""CSRF protection reaches every state-changing route, including routes added by other parts
of the service; and nothing but the PUBLIC routes answers before a sign-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI, Form
from fastapi.testclient import TestClient

from casebridge.web.app import create_app
from casebridge.web.auth.sessions import COOKIE_NAME
from casebridge.web.config import ServiceSettings
from casebridge.web.deps import Principal
from casebridge.web.permissions import (
    PUBLIC,
    Permission,
    Public,
    Requires,
    api_routes,
    permission_of,
)
from tests.web.support import closing, sign_in


def _casework_router() -> APIRouter:
    """Routes of the kind the casework part of the service adds: a JSON write, a form write."""
    router = APIRouter()

    @router.post("/api/test/items/{item_id}/status")
    def set_status(
        item_id: str,
        principal: Annotated[Principal, Depends(Requires(Permission.WORK_ITEMS))],
    ) -> dict[str, str]:
        return {"item": item_id, "by": principal.username}

    @router.post("/api/test/notes")
    def add_note(
        text: Annotated[str, Form(max_length=100)],
        principal: Annotated[Principal, Depends(Requires(Permission.WORK_ITEMS))],
    ) -> dict[str, str]:
        return {"text": text}

    @router.get("/api/test/items")
    def list_items(
        principal: Annotated[Principal, Depends(Requires(Permission.READ_CASEWORK))],
    ) -> list[str]:
        return ["item-1"]

    return router


@pytest.fixture
def app(service_settings: ServiceSettings) -> Iterator[FastAPI]:
    with closing(create_app(service_settings)) as made:
        made.include_router(_casework_router())
        yield made


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def test_a_write_to_another_router_needs_the_csrf_token(app: FastAPI, client: TestClient) -> None:
    token = sign_in(client, app, "reviewer", ["Northshire Police"])
    path = "/api/test/items/item-1/status"
    assert client.post(path).status_code == 403
    assert client.post(path, headers={"X-CSRF-Token": "not-" + token}).status_code == 403
    answer = client.post(path, headers={"X-CSRF-Token": token})
    assert answer.status_code == 200 and answer.json()["item"] == "item-1"
    # a read needs no token
    assert client.get("/api/test/items").json() == ["item-1"]


def test_a_form_may_carry_the_token_as_a_field(app: FastAPI, client: TestClient) -> None:
    token = sign_in(client, app, "reviewer", [])
    refused = client.post("/api/test/notes", data={"text": "seen"})
    assert refused.status_code == 403
    answer = client.post("/api/test/notes", data={"text": "seen", "csrf_token": token})
    assert answer.status_code == 200 and answer.json() == {"text": "seen"}


def test_another_session_s_token_is_refused(app: FastAPI, client: TestClient) -> None:
    sign_in(client, app, "reviewer", [])
    with TestClient(app) as other:
        other_token = sign_in(other, app, "reviewer", [])
    answer = client.post("/api/test/items/item-1/status", headers={"X-CSRF-Token": other_token})
    assert answer.status_code == 403


def test_a_write_without_a_session_is_told_to_sign_in(client: TestClient) -> None:
    answer = client.post("/api/test/items/item-1/status", headers={"X-CSRF-Token": "anything"})
    assert answer.status_code == 401
    assert answer.json() == {"detail": "sign in first"}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_nothing_but_public_routes_answers_before_a_sign_in(app: FastAPI) -> None:
    """Generated from the application's routes: every route that is not PUBLIC says 401 to a
    client without a session, and to one with a made-up cookie."""
    checked = 0
    for cookies in ({}, {COOKIE_NAME: "made-up-token"}):
        with TestClient(app, cookies=cookies) as client:
            for declared in api_routes(app.routes):
                if isinstance(permission_of(declared.route), Public):
                    continue
                for method in declared.methods - {"HEAD"}:
                    answer = client.request(method, _concrete(declared.path), json={})
                    assert answer.status_code == 401, (method, declared.path)
                    checked += 1
    assert checked >= 2 * 12


def test_the_public_routes_are_health_and_the_sign_in_steps(app: FastAPI) -> None:
    public = {
        declared.path
        for declared in api_routes(app.routes)
        if isinstance(permission_of(declared.route), Public)
    }
    assert public == {
        "/api/health",
        "/api/auth/login",
        "/api/auth/second-factor/enrol",
        "/api/auth/second-factor",
        "/api/auth/new-password",
        "/api/auth/session",
        "/api/auth/logout",
        # the pages' sign-in steps, the start page that sends a browser to its next step, and
        # the pages' static files (casebridge/web/pages/)
        "/",
        "/sign-in",
        "/sign-in/enrol",
        "/sign-in/code",
        "/sign-in/new-password",
        "/sign-out",
        "/static/{name:path}",
    }
    assert PUBLIC.permission is None
