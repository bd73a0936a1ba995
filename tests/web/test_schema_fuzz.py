"""schemathesis against the service's OpenAPI schema: generated requests, valid and invalid, to
every route a signed-in role may call, on SQLite and on PostgreSQL. No answer may be a server
error (or an exception out of the application), and every answer must match the schema's
description of it (its status's body, its content type).

Three sessions run: a supervisor seeing every agency of the casework world (the casework
routes and flag reviews), an auditor (the trail's routes) and an administrator (the accounts
routes). Each route gets ``CASEBRIDGE_FUZZ_EXAMPLES`` generated requests in each of
schemathesis's modes (positive: what the schema allows; negative: what it does not), about half
of them, for a route with ids in its path, about a thing that exists (so the requests get past
"not found"). The default (10) keeps ``make test`` within a couple of minutes on both databases,
with the examples fixed (derandomised); a longer, random run is::

    CASEBRIDGE_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest -n 2 tests/web/test_schema_fuzz.py
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.case import Case
from schemathesis.generation.modes import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from casebridge.web.auth.csrf import CSRF_HEADER
from casebridge.web.config import ServiceSettings
from casebridge.web.permissions import Permission, Public, allowed, api_routes, permission_of
from tests.web.casework_world import (
    World,
    built_world,
    login,
    serving,
    snapshot_rows,
)

GIVEN = os.environ.get("CASEBRIDGE_FUZZ_EXAMPLES")
EXAMPLES = int(GIVEN or "10")
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# signing out would end the session the run goes on with
LEFT_OUT = frozenset({("POST", "/api/auth/logout")})


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return built_world(tmp_path_factory.mktemp)


@pytest.fixture
def served(service_settings: ServiceSettings, world: World) -> Iterator[FastAPI]:
    with serving(service_settings, world) as app:
        try:
            yield app
        finally:
            # schemathesis keeps each application it started running until this is called
            asgi.shutdown_lifespans()


def known_ids(world: World) -> dict[str, str]:
    """A real id of each kind a path names, from the world's snapshot."""

    def first(sql: str) -> str:
        return str(snapshot_rows(world, sql)[0][0])

    return {
        "item_id": first("SELECT item_id FROM review_item ORDER BY priority DESC LIMIT 1"),
        "person_id": first("SELECT person_id FROM person ORDER BY sources DESC, 1 LIMIT 1"),
        "record_id": first("SELECT record_id FROM person_record ORDER BY 1 LIMIT 1"),
        "event_id": first("SELECT event_id FROM event ORDER BY 1 LIMIT 1"),
        "network_id": first("SELECT network_id FROM network ORDER BY 1 LIMIT 1"),
    }


@dataclass
class Findings:
    """What the run found: failed checks and exceptions by (operation, status, problem)."""

    calls: int = 0
    failures: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    examples: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def add(self, case: Case, status: str, problem: str) -> None:
        key = (case.operation.label, status, problem)
        self.failures[key] += 1
        self.examples.setdefault(key, case.as_curl_command())

    def report(self) -> str:
        return "\n".join(
            f"{count} x {label} -> {status}: {problem}\n    {self.examples[key][:500]}"
            for key, count in self.failures.most_common()
            for label, status, problem in [key]
        )


def reachable(app: FastAPI, role: str) -> set[tuple[str, str]]:
    """(method, path) of every route ``role`` may call (the others are the matrix's 403s)."""
    found = set()
    for route in api_routes(app.routes):
        permission = permission_of(route.route)
        if isinstance(permission, Public) or (
            isinstance(permission, Permission) and allowed(role, permission)
        ):
            found |= {(method, route.path.replace(":path", "")) for method in route.methods}
    return found - LEFT_OUT


def fuzz(app: FastAPI, role: str, world: World) -> Findings:
    """Sign in as ``role`` (every agency of the world) and send schemathesis's requests."""
    agencies = [str(row[0]) for row in snapshot_rows(world, "SELECT agency FROM source")]
    with TestClient(app) as client:
        me = login(client, app, role, *agencies)
        cookies = dict(client.cookies)
        headers = {CSRF_HEADER: client.headers[CSRF_HEADER]}
    real = known_ids(world)
    schema = schemathesis.openapi.from_dict(app.openapi())
    findings = Findings()
    wanted = reachable(app, role)

    def call(case: Case) -> None:
        if str((case.path_parameters or {}).get("account_id")) == str(me.account_id):
            case.path_parameters["account_id"] = me.account_id + 10_000  # not one's own
        findings.calls += 1
        try:
            answer = case.call(app=app, headers=headers, cookies=cookies)
        except Exception as error:  # the application raised: a server error
            findings.add(case, "raised", f"{type(error).__name__}: {str(error)[:200]}")
            return
        try:
            case.validate_response(answer, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                findings.add(
                    case, str(answer.status_code), f"{failure.title}: {str(failure)[:300]}"
                )

    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) not in wanted:
            continue
        known = {p.name: real[p.name] for p in operation.path_parameters if p.name in real}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategies = [operation.as_strategy(generation_mode=mode)]
            if known:
                strategies.append(
                    operation.as_strategy(generation_mode=mode, path_parameters=known)
                )
            run(st.one_of(strategies), call)
    return findings


def run(strategy: st.SearchStrategy[Case], call: Callable[[Case], Any]) -> None:
    """``call`` on ``EXAMPLES`` cases of ``strategy`` (fixed ones unless a count was given);
    failures are collected, not raised, so nothing is shrunk and every one is reported."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=GIVEN is None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def each(case: Case) -> None:
        call(case)

    try:
        each()
    except Unsatisfiable:  # negative mode with nothing to negate (no parameters, no body)
        pass


@pytest.mark.parametrize("role", ["supervisor", "auditor", "administrator"])
def test_schemathesis_finds_no_server_error_and_no_answer_off_the_schema(
    served: FastAPI, world: World, role: str
) -> None:
    findings = fuzz(served, role, world)
    assert findings.calls >= EXAMPLES * 4
    assert not findings.failures, (
        f"{sum(findings.failures.values())} of {findings.calls} calls failed:\n{findings.report()}"
    )


@pytest.mark.parametrize(
    ("role", "method", "path", "params"),
    [
        ("supervisor", "POST", f"/api/trail/flags/{2**64}/review", {}),
        ("auditor", "GET", "/api/trail/entries", {"account_id": 2**64}),
        ("auditor", "GET", "/api/trail/export", {"action": "a\x00b"}),
        ("auditor", "GET", "/api/trail/entries", {"subject_id": "\x00"}),
        ("auditor", "GET", "/api/trail/export", {"subject_kind": "person\x00"}),
    ],
)  # fmt: skip
def test_what_schemathesis_found_stays_refused_not_a_server_error(
    served: FastAPI, role: str, method: str, path: str, params: dict[str, object]
) -> None:
    # a number past 64 bits, and text holding a NUL, reached SQLite or PostgreSQL and raised
    with TestClient(served) as client:
        login(client, served, role, "Northshire Police")
        answer = client.request(method, path, params=params, json={"outcome": "seen"})
    assert answer.status_code == 422, answer.text
