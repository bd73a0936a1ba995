"""The service's skeleton: it starts on a migrated database, answers with its security
headers, and refuses a route that declares no permission."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.testclient import TestClient

from casebridge.web.app import (
    SECURITY_HEADERS,
    UndeclaredRouteError,
    check_declarations,
    create_app,
)
from casebridge.web.config import ServiceSettings


def test_the_service_starts_on_a_migrated_database(service_settings: ServiceSettings) -> None:
    app = create_app(service_settings)
    tables = set(sa.inspect(app.state.engine).get_table_names())
    assert {"account", "trail_entry", "trail_checkpoint", "judgement"} <= tables
    with TestClient(app) as client:
        answer = client.get("/api/health")
    assert answer.status_code == 200
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers[name] == value


def test_a_route_without_a_permission_is_refused(service_settings: ServiceSettings) -> None:
    app = create_app(service_settings)
    undeclared = APIRouter()

    @undeclared.get("/api/undeclared")
    def nothing() -> None:
        return None

    app.include_router(undeclared)
    with pytest.raises(UndeclaredRouteError, match="/api/undeclared"):
        check_declarations(app)
