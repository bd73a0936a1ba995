"""The route × role × scope matrix, generated from the application's own routes.

Every route the application serves (``api_routes``) is called, through a real sign-in, by an
account of each role, once about something inside the account's agency scope and once about
something outside it:

- the role lacks the route's permission: 403;
- the role has it but the subject is outside its scope: 404, the very answer an id that
  exists nowhere gets;
- otherwise: 2xx.

Path parameters are filled from the workspace by their name (:data:`PATH_KINDS`); query
parameters and bodies come from :data:`EXAMPLES`, keyed by (method, path). A route missing from
that table fails the matrix, so a new route cannot escape it.

Every answer, refusals included, is then searched for ids the account may not see: every string
in it (JSON walked, a GraphML file parsed) that is a person, record, event, review item or
network id of the snapshot must be one the account's scope shows. What the scope shows is
worked out here from the snapshot's tables, in Python, not by the service's SQL. Victims'
details are checked too: a known victim's surname and birth date (no other person's) never
reach a role without ``read_victim_details``, and do reach one with it (so the check can fail).
"""

from __future__ import annotations

import html
import io
import re
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import networkx as nx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select

from casebridge.web.auth.accounts import create_account
from casebridge.web.auth.csrf import CSRF_HEADER
from casebridge.web.config import ServiceSettings
from casebridge.web.db import transaction
from casebridge.web.models import Account, TrailEntry
from casebridge.web.permissions import (
    Permission,
    Public,
    Role,
    allowed,
    api_routes,
    permission_of,
)
from casebridge.web.services.masking import PROTECTED_ROLES
from tests.web.casework_world import World, built_world, serving, snapshot_rows, token_of
from tests.web.support import FAST_HASHER, current_code, make_account
from tests.web.test_duty_reports import FORM as DUTY_FORM
from tests.web.test_duty_reports import report as duty_report

# the account under test sees two police forces; the other agencies are outside its scope
HOME = ("Eastmoor Constabulary", "Northshire Police")
AWAY = ("Westvale Police", "Southmoor Police")
REASON = {"X-Access-Reason": "matrix test"}
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# what a path parameter names, by its name in the route's path
PATH_KINDS = {
    "person_id": "person",
    "record_id": "record",
    "event_id": "event",
    "item_id": "item",
    "network_id": "network",
    "account_id": "account",
    "seq": "flag",
    "name": "static",
    "reference": "duty_report",
}
# kinds that live in an agency's scope (an account is an administrator's, in no agency's)
SCOPED_KINDS = frozenset({"person", "record", "event", "item", "network", "flag", "duty_report"})
# ids that exist nowhere: the answer outside scope must be the answer to these
NOWHERE = {
    "person": "PN9999999",
    "record": "force_a:NO-SUCH-RECORD",
    "event": "force_a:NO/SUCH/EVENT",
    "item": "event:force_a:NO/SUCH/EVENT",
    "network": "N-PN9999999",
    "flag": "999999",
    "duty_report": "DR-2000-00000000",
}


# ---- what the scope shows, from the snapshot's tables ------------------------------------


@dataclass(frozen=True)
class Scope:
    """The ids of each kind that a set of agencies may see, and every id of each kind."""

    visible: dict[str, frozenset[str]]
    universe: dict[str, frozenset[str]]

    def kind_of(self, text: str) -> str | None:
        """The kind of id ``text`` is, or None when it is no id of the snapshot."""
        return next((kind for kind, ids in self.universe.items() if text in ids), None)


def _column(world: World, sql: str) -> list[tuple[str, ...]]:
    return [
        tuple(str(v) if v is not None else "" for v in row) for row in snapshot_rows(world, sql)
    ]


def scope_of(world: World, agencies: tuple[str, ...]) -> Scope:
    """The docs' rule (docs/service.md, "Scope: outside it nothing exists"), worked in sets."""
    agency_of = dict(_column(world, "SELECT source, agency FROM source"))
    records = _column(world, "SELECT record_id, source FROM person_record")
    links = _column(world, "SELECT record_id, person_id FROM person_link")
    involved = _column(world, "SELECT event_id, record_id FROM involvement")
    events = _column(world, "SELECT event_id, source FROM event")
    items = _column(world, "SELECT item_id, coalesce(event_id, ''), coalesce(person_id, '') "
                           "FROM review_item")  # fmt: skip
    members = _column(world, "SELECT network_id, person_id FROM network_member")
    person_of = dict(links)
    in_scope = {r for r, source in records if agency_of.get(source) in agencies}
    persons = {person_of[r] for r in in_scope if r in person_of}
    shown_records = in_scope | {r for r, p in links if p in persons}
    shown_events = {e for e, source in events if agency_of.get(source) in agencies}
    shown_events |= {e for e, r in involved if r in shown_records}
    shown_items = {i for i, e, p in items if e in shown_events or p in persons}
    shown_networks = {n for n, p in members if p in persons}
    return Scope(
        visible={
            "person": frozenset(persons), "record": frozenset(shown_records),
            "event": frozenset(shown_events), "item": frozenset(shown_items),
            "network": frozenset(shown_networks),
        },
        universe={
            "person": frozenset(p for _, p in links), "record": frozenset(r for r, _ in records),
            "event": frozenset(e for e, _ in events), "item": frozenset(i for i, _, _ in items),
            "network": frozenset(n for n, _ in members),
        },
    )  # fmt: skip


@dataclass(frozen=True)
class Victim:
    """A victim the home scope shows: their person and record, an event and a scored pair they
    are in, and the surname and birth date that must stay masked (both unique in the
    snapshot, so finding them means finding this victim)."""

    person: str
    record: str
    event: str
    pair: tuple[str, str]
    surname: str
    birth_date: str


def known_victim(world: World, home: Scope) -> Victim:
    roles = ", ".join(f"'{role}'" for role in PROTECTED_ROLES)
    rows = snapshot_rows(
        world,
        f"""SELECT l.person_id, r.record_id, i.event_id, p.record_l, p.record_r, r.surname,
            CAST(r.date_of_birth AS VARCHAR)
        FROM involvement i JOIN person_record r ON r.record_id = i.record_id
        JOIN person_link l ON l.record_id = r.record_id
        JOIN match_pair p ON r.record_id IN (p.record_l, p.record_r)
        WHERE i.role IN ({roles}) AND r.surname IS NOT NULL AND r.date_of_birth IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM person_record x JOIN person_link y
               ON y.record_id = x.record_id WHERE y.person_id <> l.person_id
               AND (r.surname IN (x.surname, x.forename) OR x.date_of_birth = r.date_of_birth))
        ORDER BY r.record_id, i.event_id""",
    )
    for person, record, event, left, right, surname, born in rows:
        if {str(left), str(right)} <= home.visible["record"]:
            return Victim(str(person), str(record), str(event), (str(left), str(right)),
                          str(surname), str(born))  # fmt: skip
    raise AssertionError("the matrix's world has no victim on a scored pair in the home scope")


# ---- the workspace, its scopes and its ids -----------------------------------------------


@dataclass(frozen=True)
class Ids:
    """For each kind, an id inside the home scope and one outside it (from the snapshot)."""

    inside: dict[str, str]
    outside: dict[str, str]
    pair_inside: tuple[str, str]
    pair_outside: tuple[str, str]
    name_outside: str


@dataclass(frozen=True)
class Matrix:
    """The world, what the home scope shows, and the ids the matrix fills routes with."""

    world: World
    home: Scope
    victim: Victim
    ids: Ids


def _outside(home: Scope, kind: str) -> str:
    hidden = sorted(home.universe[kind] - home.visible[kind])
    assert hidden, f"the matrix's world has no {kind} outside the home scope"
    return hidden[0]


def _mixed_network(home: Scope, world: World) -> str:
    """A network the home scope shows that also has members it does not (so its answer could
    leak them)."""
    members: dict[str, set[str]] = defaultdict(set)
    for network, person in _column(world, "SELECT network_id, person_id FROM network_member"):
        members[network].add(person)
    for network in sorted(home.visible["network"]):
        if members[network] - home.visible["person"]:
            return network
    raise AssertionError("the matrix's world has no network straddling the home scope")


def matrix_of(world: World) -> Matrix:
    home = scope_of(world, HOME)
    victim = known_victim(world, home)
    item = sorted(home.visible["item"])[0]
    pairs = _column(world, "SELECT record_l, record_r FROM match_pair ORDER BY 1, 2")
    hidden = home.universe["record"] - home.visible["record"]
    pair_outside = next((a, b) for a, b in pairs if {a, b} <= hidden)
    outside_person = _outside(home, "person")
    named = _column(
        world,
        "SELECT forename || ' ' || surname FROM person WHERE person_id = "
        f"'{outside_person}' AND surname IS NOT NULL",
    )
    ids = Ids(
        inside={
            "person": victim.person, "record": victim.record, "event": victim.event,
            "item": item, "network": _mixed_network(home, world),
        },
        outside={kind: _outside(home, kind) for kind in ("person", "record", "event", "item",
                                                         "network")},
        pair_inside=victim.pair,
        pair_outside=pair_outside,
        name_outside=named[0][0] if named else "Rupert Smyth",
    )  # fmt: skip
    return Matrix(world, home, victim, ids)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Matrix:
    return matrix_of(built_world(tmp_path_factory.mktemp))


@pytest.fixture
def served(service_settings: ServiceSettings, matrix: Matrix) -> Iterator[FastAPI]:
    with serving(service_settings, matrix.world) as app:
        yield app


# ---- signing in --------------------------------------------------------------------------


@dataclass
class Member:
    """A signed-in client: its account and the password it holds now."""

    client: TestClient
    account_id: int
    username: str
    password: str
    csrf: str


def signed_in(app: FastAPI, role: str, scopes: tuple[str, ...]) -> Member:
    """A new account of ``role`` seeing ``scopes``, signed in through the real steps."""
    username, password, secret = make_account(app, role, sorted(scopes))
    client = TestClient(app)
    answer = client.post("/api/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    csrf = answer.json()["csrf_token"]
    answer = client.post(
        "/api/auth/second-factor", json={"code": current_code(secret)}, headers={CSRF_HEADER: csrf}
    )
    assert answer.json()["next"] == "complete", answer.text
    with app.state.sessions() as session:
        account_id = session.scalars(select(Account.id).where(Account.username == username)).one()
    return Member(client, account_id, username, password, csrf)


def flagged_seq(app: FastAPI, scopes: tuple[str, ...], person: str) -> str:
    """The trail number of a break-glass read of ``person`` by a reviewer seeing ``scopes``."""
    reviewer = signed_in(app, "reviewer", scopes)
    answer = reviewer.client.get(f"/api/persons/{person}", headers=REASON)
    assert answer.status_code == 200, answer.text
    with app.state.sessions() as session:
        seq = session.scalars(
            select(TrailEntry.seq).where(
                TrailEntry.account_id == reviewer.account_id, TrailEntry.flagged.is_(True)
            )
        ).one()
    return str(seq)


def filed_report(app: FastAPI, scopes: tuple[str, ...], postcode: str) -> str:
    """The reference of a duty report a colleague seeing ``scopes`` filed about a child at
    ``postcode`` (routed by the world's table: NS1 to Northshire, WX1 to Westvale)."""
    colleague = signed_in(app, "supervisor", scopes)
    with colleague.client as client:
        answer = client.post(
            "/api/duty-reports", json=duty_report(postcode), headers={CSRF_HEADER: colleague.csrf}
        )
    assert answer.status_code == 201, answer.text
    reference: str = answer.json()["reference"]
    return reference


def new_account(app: FastAPI, scopes: tuple[str, ...]) -> str:
    """A fresh analyst account seeing ``scopes`` (an administrator's subject), by its id."""
    username, _, _ = make_account(app, "analyst", list(scopes))
    with app.state.sessions() as session:
        return str(session.scalars(select(Account.id).where(Account.username == username)).one())


# ---- the public sign-in steps, walked by a newcomer --------------------------------------


@dataclass
class Newcomer:
    """A new account walking every public sign-in step once: one-time password, enrolment,
    code, new password, where-am-I, sign-out. Each public route's cell takes its step's answer."""

    app: FastAPI
    role: str
    scopes: tuple[str, ...]
    answers: dict[tuple[str, str], Response] = field(default_factory=dict)

    def answer(self, method: str, path: str) -> Response:
        if not self.answers:
            self._walk()
        return self.answers[(method, path)]

    def _walk(self) -> None:
        username = f"new-{self.role}-{secrets.token_hex(4)}"
        with transaction(self.app.state.sessions) as db:
            made = create_account(
                db, FAST_HASHER, username=username, role=self.role, scopes=list(self.scopes)
            )
        # not entered (``with``): leaving would run the application's shutdown mid-matrix
        client = TestClient(self.app)
        if True:
            steps = self.answers
            steps[("POST", "/api/auth/login")] = login = client.post(
                "/api/auth/login", json={"username": username, "password": made.password}
            )
            csrf = {CSRF_HEADER: login.json()["csrf_token"]}
            steps[("POST", "/api/auth/second-factor/enrol")] = enrolled = client.post(
                "/api/auth/second-factor/enrol", headers=csrf
            )
            code = {"code": current_code(enrolled.json()["secret"])}
            steps[("POST", "/api/auth/second-factor")] = client.post(
                "/api/auth/second-factor", json=code, headers=csrf
            )
            steps[("POST", "/api/auth/new-password")] = client.post(
                "/api/auth/new-password",
                json={"new_password": f"chosen {secrets.token_hex(8)}"},
                headers=csrf,
            )
            steps[("GET", "/api/auth/session")] = client.get("/api/auth/session")
            steps[("GET", "/api/health")] = client.get("/api/health")
            steps[("POST", "/api/auth/logout")] = client.post("/api/auth/logout", headers=csrf)
        self._walk_pages()

    def _walk_pages(self) -> None:
        """The same steps through the sign-in pages' forms, and the start and static files."""
        username = f"page-{self.role}-{secrets.token_hex(4)}"
        with transaction(self.app.state.sessions) as db:
            made = create_account(
                db, FAST_HASHER, username=username, role=self.role, scopes=list(self.scopes)
            )
        client = TestClient(self.app)
        steps = self.answers
        steps[("GET", "/sign-in")] = form = client.get("/sign-in")
        typed = {"username": username, "password": made.password}
        steps[("POST", "/sign-in")] = client.post(
            "/sign-in", data={**typed, "csrf_token": token_of(form.text)}
        )
        steps[("GET", "/sign-in/enrol")] = enrol = client.get("/sign-in/enrol")
        steps[("POST", "/sign-in/enrol")] = shown = client.post(
            "/sign-in/enrol", data={"csrf_token": token_of(enrol.text)}
        )
        secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', shown.text)
        assert secret, "the enrolment page shows no secret"
        token = token_of(shown.text)
        steps[("GET", "/sign-in/code")] = client.get("/sign-in/code")
        steps[("POST", "/sign-in/code")] = client.post(
            "/sign-in/code", data={"code": current_code(secret.group(1)), "csrf_token": token}
        )
        steps[("GET", "/sign-in/new-password")] = client.get("/sign-in/new-password")
        chosen = f"chosen {secrets.token_hex(8)}"
        steps[("POST", "/sign-in/new-password")] = done = client.post(
            "/sign-in/new-password",
            data={"new_password": chosen, "repeated": chosen, "csrf_token": token},
        )
        steps[("GET", "/")] = client.get("/")
        asset = re.search(r'href="(/static/[^"]+)"', done.text)
        assert asset, "the page links no static file"
        steps[("GET", "/static/{name:path}")] = client.get(asset.group(1))
        steps[("POST", "/sign-out")] = client.post("/sign-out", data={"csrf_token": token})


# ---- one cell ----------------------------------------------------------------------------


@dataclass
class Cell:
    """One route called by one role, about something inside or outside its scope."""

    app: FastAPI
    matrix: Matrix
    member: Member
    role: str
    inside: bool
    flags: dict[bool, str]
    newcomers: dict[bool, Newcomer]
    duty_reports: dict[bool, str] = field(default_factory=dict)

    @property
    def scopes(self) -> tuple[str, ...]:
        return HOME if self.inside else AWAY

    def id(self, kind: str) -> str:
        """The id of ``kind`` this cell is about."""
        if kind == "account":
            return new_account(self.app, self.scopes)
        if kind == "flag":
            return self.flags[self.inside]
        if kind == "duty_report":
            return self.duty_reports[self.inside]
        ids = self.matrix.ids
        return (ids.inside if self.inside else ids.outside)[kind]

    @property
    def pair(self) -> tuple[str, str]:
        ids = self.matrix.ids
        return ids.pair_inside if self.inside else ids.pair_outside

    def post(self, path: str, body: dict[str, Any]) -> Response:
        headers = {CSRF_HEADER: self.member.csrf, **REASON}
        return self.member.client.post(path, json=body, headers=headers)


Maker = Callable[[Cell], dict[str, Any]]


@dataclass(frozen=True)
class Example:
    """How to call one route: its query and body for a cell, whether its subject lives in a
    scope, what to do before and after, and why (if ever) its answer may hold ids from outside
    the caller's scope."""

    query: Maker = lambda cell: {}
    body: Maker | None = None
    # a page's form fields (sent as a form; the CSRF token goes in the header as for the API)
    form: Maker | None = None
    scoped: bool | None = None  # None: scoped when a path parameter is of a scoped kind
    before: Callable[[Cell], None] | None = None
    after: Callable[[Cell], None] | None = None
    public: bool = False
    ids_unscoped: str | None = None


def _assign_to_self(cell: Cell) -> None:
    answer = cell.post(f"/api/items/{cell.id('item')}/assignment", {})
    assert answer.status_code == 200, answer.text


def _unassign(cell: Cell) -> None:
    answer = cell.post(f"/api/items/{cell.id('item')}/assignment", {"unassign": True})
    assert answer.status_code == 200, answer.text


def _password_change(cell: Cell) -> dict[str, Any]:
    chosen = f"changed {secrets.token_hex(8)}"
    current, cell.member.password = cell.member.password, chosen
    return {"current_password": current, "new_password": chosen}


def _pair_query(cell: Cell) -> dict[str, Any]:
    first, second = cell.pair
    return {"first": first, "second": second}


def _judgement(cell: Cell) -> dict[str, Any]:
    first, second = cell.pair
    return {"first": first, "second": second, "verdict": "unsure", "reason": "matrix test"}


def _search(cell: Cell) -> dict[str, Any]:
    victim = cell.matrix.victim
    if cell.inside:
        return {"name": victim.surname, "birth_date": victim.birth_date, "reason": "matrix test"}
    return {"name": cell.matrix.ids.name_outside, "reason": "matrix test"}


def _queue(cell: Cell) -> dict[str, Any]:
    return {"page_size": 100} if cell.inside else {"page_size": 100, "agency": AWAY[0]}


def _trail_subject(cell: Cell) -> dict[str, Any]:
    return {"subject_id": cell.id("person")}


def _new_account(cell: Cell) -> dict[str, Any]:
    return {"username": f"made-{secrets.token_hex(4)}", "role": "reviewer",
            "scopes": list(cell.scopes)}  # fmt: skip


def _fresh_flag(cell: Cell) -> None:
    """A flag not reviewed yet (the API's review route took the first one)."""
    person = cell.matrix.ids.inside["person"] if cell.inside else cell.matrix.ids.outside["person"]
    cell.flags[cell.inside] = flagged_seq(cell.app, cell.scopes, person)


AUDIT = (
    "auditors audit the whole service: they must see every entry of the trail to verify its "
    "chain and proofs (docs/service.md, 'The access trail'); entries hold ids, never names, "
    "which the name check below holds them to"
)
EXAMPLES: dict[tuple[str, str], Example] = {
    # served before a sign-in (walked by a newcomer)
    ("GET", "/api/health"): Example(public=True),
    ("POST", "/api/auth/login"): Example(public=True),
    ("POST", "/api/auth/second-factor/enrol"): Example(public=True),
    ("POST", "/api/auth/second-factor"): Example(public=True),
    ("POST", "/api/auth/new-password"): Example(public=True),
    ("GET", "/api/auth/session"): Example(public=True),
    ("POST", "/api/auth/logout"): Example(public=True),
    # one's own account
    ("GET", "/api/openapi.json"): Example(),
    ("GET", "/api/me"): Example(),
    ("POST", "/api/me/password"): Example(body=_password_change),
    # accounts (administrators are in no agency's scope: both cells succeed)
    ("GET", "/api/accounts"): Example(),
    ("POST", "/api/accounts"): Example(body=_new_account),
    ("GET", "/api/accounts/{account_id}"): Example(),
    ("PATCH", "/api/accounts/{account_id}"): Example(body=lambda c: {"scopes": list(c.scopes)}),
    ("POST", "/api/accounts/{account_id}/deactivate"): Example(body=lambda c: {}),
    ("POST", "/api/accounts/{account_id}/reset-second-factor"): Example(body=lambda c: {}),
    ("POST", "/api/accounts/{account_id}/reset-password"): Example(body=lambda c: {}),
    # the trail
    ("GET", "/api/trail/entries"): Example(query=_trail_subject, ids_unscoped=AUDIT),
    ("GET", "/api/trail/export"): Example(
        query=lambda c: {"format": "json", **_trail_subject(c)}, ids_unscoped=AUDIT
    ),
    ("GET", "/api/trail/verify"): Example(),
    ("GET", "/api/trail/checkpoints"): Example(),
    ("GET", "/api/trail/public-keys"): Example(),
    ("GET", "/api/trail/proofs/inclusion"): Example(query=lambda c: {"seq": 0}),
    ("GET", "/api/trail/proofs/consistency"): Example(query=lambda c: {"first": 1}),
    ("GET", "/api/trail/flags"): Example(),
    ("POST", "/api/trail/flags/{seq}/review"): Example(body=lambda c: {"outcome": "seen"}),
    # casework
    ("GET", "/api/snapshot"): Example(),
    ("GET", "/api/queue"): Example(query=_queue),
    ("GET", "/api/items/{item_id:path}"): Example(),
    ("POST", "/api/items/{item_id:path}/status"): Example(
        body=lambda c: {"status": "in_review"}, before=_assign_to_self, after=_unassign
    ),
    ("POST", "/api/items/{item_id:path}/assignment"): Example(body=lambda c: {}, after=_unassign),
    ("POST", "/api/items/{item_id:path}/notes"): Example(body=lambda c: {"text": "matrix"}),
    ("GET", "/api/persons/{person_id}"): Example(),
    ("GET", "/api/records/{record_id:path}"): Example(),
    ("GET", "/api/events/{event_id:path}"): Example(),
    ("GET", "/api/pairs"): Example(query=_pair_query, scoped=True),
    ("POST", "/api/pairs/judgements"): Example(body=_judgement, scoped=True),
    ("GET", "/api/networks"): Example(query=lambda c: {"page_size": 100}),
    ("GET", "/api/networks/{network_id}"): Example(),
    ("GET", "/api/networks/{network_id}/export"): Example(query=lambda c: {"format": "graphml"}),
    ("POST", "/api/search"): Example(body=_search),
    # the pages: sign-in steps walked by a newcomer, casework through the same access layer
    ("GET", "/"): Example(public=True),
    ("GET", "/static/{name:path}"): Example(public=True),
    ("GET", "/sign-in"): Example(public=True),
    ("POST", "/sign-in"): Example(public=True),
    ("GET", "/sign-in/enrol"): Example(public=True),
    ("POST", "/sign-in/enrol"): Example(public=True),
    ("GET", "/sign-in/code"): Example(public=True),
    ("POST", "/sign-in/code"): Example(public=True),
    ("GET", "/sign-in/new-password"): Example(public=True),
    ("POST", "/sign-in/new-password"): Example(public=True),
    ("POST", "/sign-out"): Example(public=True),
    ("GET", "/account"): Example(),
    ("GET", "/queue"): Example(query=_queue),
    ("GET", "/items/{item_id:path}"): Example(),
    ("POST", "/items/{item_id:path}"): Example(form=lambda c: {"access_reason": "matrix test"}),
    ("POST", "/items/{item_id:path}/status"): Example(
        form=lambda c: {"status": "in_review"}, before=_assign_to_self, after=_unassign
    ),
    ("POST", "/items/{item_id:path}/assignment"): Example(
        form=lambda c: {"to": "me"}, after=_unassign
    ),
    ("POST", "/items/{item_id:path}/notes"): Example(form=lambda c: {"text": "matrix"}),
    ("GET", "/persons/{person_id}"): Example(),
    ("POST", "/persons/{person_id}"): Example(form=lambda c: {"access_reason": "matrix test"}),
    ("GET", "/records/{record_id:path}"): Example(),
    ("POST", "/records/{record_id:path}"): Example(form=lambda c: {"access_reason": "matrix test"}),
    ("GET", "/events/{event_id:path}"): Example(),
    ("POST", "/events/{event_id:path}"): Example(form=lambda c: {"access_reason": "matrix test"}),
    ("GET", "/pairs"): Example(query=_pair_query, scoped=True),
    ("POST", "/pairs"): Example(
        query=_pair_query, form=lambda c: {"access_reason": "matrix test"}, scoped=True
    ),
    ("POST", "/pairs/judgements"): Example(form=_judgement, scoped=True),
    # administration pages (through the accounts API's service; accounts are in no scope)
    ("GET", "/admin/accounts"): Example(),
    ("GET", "/admin/accounts/new"): Example(),
    ("POST", "/admin/accounts"): Example(form=_new_account),
    ("GET", "/admin/accounts/{account_id}"): Example(),
    ("POST", "/admin/accounts/{account_id}"): Example(
        form=lambda c: {"role": "analyst", "scopes": list(c.scopes)}
    ),
    ("POST", "/admin/accounts/{account_id}/deactivate"): Example(form=lambda c: {}),
    ("POST", "/admin/accounts/{account_id}/reset-second-factor"): Example(form=lambda c: {}),
    ("POST", "/admin/accounts/{account_id}/reset-password"): Example(form=lambda c: {}),
    # audit pages: the auditor's trail is exempt from scope as the API's is; flags are scoped
    ("GET", "/audit/trail"): Example(query=_trail_subject, ids_unscoped=AUDIT),
    ("GET", "/audit/verify"): Example(),
    ("GET", "/flags"): Example(),
    ("POST", "/flags/{seq}/review"): Example(
        form=lambda c: {"outcome": "seen"}, before=_fresh_flag
    ),
    ("GET", "/networks"): Example(),
    ("GET", "/networks/{network_id}"): Example(),
    ("POST", "/networks/{network_id}"): Example(form=lambda c: {"access_reason": "matrix test"}),
    ("GET", "/search"): Example(),
    ("POST", "/search"): Example(form=_search),
    ("GET", "/statistics"): Example(),
    ("GET", "/statistics/report"): Example(),
    ("GET", "/statistics/internal-report"): Example(),
    # duty reports: a report exists for its filer and the force it was routed to
    ("POST", "/api/duty-reports"): Example(body=lambda c: duty_report()),
    ("GET", "/api/duty-reports"): Example(),
    ("GET", "/api/duty-reports/{reference}"): Example(),
    ("GET", "/duty-reports/new"): Example(),
    ("POST", "/duty-reports"): Example(form=lambda c: DUTY_FORM),
    ("GET", "/duty-reports"): Example(),
    ("GET", "/duty-reports/{reference}"): Example(),
}
PARAMETER = re.compile(r"\{([a-z_]+)(?::path)?\}")


def declared(app: FastAPI) -> list[tuple[str, str, Permission | Public]]:
    """Every (method, path, permission) the application serves; a route without a
    permission fails here too (create_app refuses one as well)."""
    found = []
    for route in api_routes(app.routes):
        permission = permission_of(route.route)
        assert permission is not None, f"{sorted(route.methods)} {route.path} declares none"
        for method in sorted(route.methods):
            found.append((method, route.path, permission))
    return sorted(found, key=lambda found: (found[1], found[0]))


def example_of(method: str, path: str) -> Example:
    example = EXAMPLES.get((method, path))
    if example is None:
        pytest.fail(
            f"{method} {path} has no example in tests/web/test_matrix.py: add one to EXAMPLES "
            "(its query and body for a cell) so that the route × role × scope matrix covers it",
            pytrace=False,
        )
    return example


def kinds_in(path: str) -> list[str]:
    names = PARAMETER.findall(path)
    unknown = [name for name in names if name not in PATH_KINDS]
    assert not unknown, f"path parameter {unknown} of {path}: add its kind to PATH_KINDS"
    return [PATH_KINDS[name] for name in names]


def fill(path: str, ids: Callable[[str], str]) -> str:
    return PARAMETER.sub(lambda m: ids(PATH_KINDS[m.group(1)]), path)


def call(
    cell: Cell, method: str, path: str, example: Example, ids: Callable[[str], str]
) -> Response:
    """The request the cell makes; writes carry the session's CSRF token."""
    headers = dict(REASON)
    if method in WRITES:
        headers[CSRF_HEADER] = cell.member.csrf
    body = example.body(cell) if example.body else None
    form = example.form(cell) if example.form else None
    return cell.member.client.request(
        method,
        fill(path, ids),
        params=example.query(cell),
        json=body,
        data=form,
        headers=headers,
    )


# ---- the leak check ----------------------------------------------------------------------


def strings_in(answer: Response) -> Iterator[str]:
    """Every string in an answer: JSON walked (keys too), GraphML parsed, else its text."""
    kind = answer.headers.get("content-type", "")
    if not answer.content:
        return
    if kind.startswith("application/json"):
        yield from _walk(answer.json())
    elif kind.startswith("application/graphml"):
        graph = nx.read_graphml(io.BytesIO(answer.content))
        for node, values in graph.nodes(data=True):
            yield str(node)
            yield from (str(v) for v in values.values())
        for a, b, values in graph.edges(data=True):
            yield from (str(a), str(b), *(str(v) for v in values.values()))
    elif kind.startswith("text/html"):
        yield from words_of_page(answer.text)
    else:
        yield answer.text


# a page's words: runs of characters an id may hold, between markup and punctuation
PAGE_WORD = re.compile(r"[^\s<>\"'=,;()&?#]+")


def words_of_page(text: str) -> Iterator[str]:
    """Every word of a page (entities decoded), and each link's path without its first part
    (``/persons/PN0000123`` also as ``PN0000123``), so an id in the text or a link is seen."""
    for word in PAGE_WORD.findall(html.unescape(text)):
        yield word
        if word.startswith("/") and word.count("/") >= 2:
            yield unquote(word.split("/", 2)[2])


def _walk(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner)
    elif isinstance(value, str):
        yield value
        if "; " in value:  # ids joined into one value (an export's lists)
            yield from value.split("; ")


def leaks_in(answer: Response, home: Scope) -> list[str]:
    """The ids in ``answer`` that the home scope does not show."""
    leaked = []
    for text in strings_in(answer):
        kind = home.kind_of(text)
        if kind is not None and text not in home.visible[kind]:
            leaked.append(f"{kind} {text}")
    return leaked


# ---- the matrix --------------------------------------------------------------------------


@dataclass
class Tally:
    cells: int = 0
    failures: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    answers: list[Response] = field(default_factory=list)


def expected(role: str, permission: Permission | Public, scoped: bool, inside: bool) -> str:
    if isinstance(permission, Public):
        return "2xx"
    if not allowed(role, permission):
        return "403"
    return "404" if scoped and not inside else "2xx"


def run_cell(
    cell: Cell, method: str, path: str, permission: Permission | Public, tally: Tally
) -> None:
    example = example_of(method, path)
    scoped = example.scoped if example.scoped is not None else bool(
        set(kinds_in(path)) & SCOPED_KINDS)  # fmt: skip
    want = expected(cell.role, permission, scoped, cell.inside)
    where = f"{method} {path} as {cell.role} {'inside' if cell.inside else 'outside'} scope"
    tally.cells += 1
    if example.public:
        answer = cell.newcomers[cell.inside].answer(method, path)
    else:
        ready = want == "2xx"
        if ready and example.before:
            example.before(cell)
        answer = call(cell, method, path, example, cell.id)
        if ready and example.after and answer.is_success:
            example.after(cell)
    got = str(answer.status_code)
    if not (got == want or (want == "2xx" and answer.is_success)):
        tally.failures.append(f"{where}: {got}, expected {want}: {answer.text[:200]}")
    if want == "404":
        nowhere = call(cell, method, path, example, lambda kind: NOWHERE.get(kind, cell.id(kind)))
        if (nowhere.status_code, nowhere.content) != (answer.status_code, answer.content):
            tally.failures.append(
                f"{where}: outside scope answered {got} {answer.text[:120]}, "
                f"an id that exists nowhere {nowhere.status_code} {nowhere.text[:120]}"
            )
    if not (example.ids_unscoped and cell.role == Role.AUDITOR):
        # a public step's answer is the newcomer's, whose scope is the cell's
        seen_by = cell.matrix.home if cell.inside or not example.public else away_scope(cell)
        tally.leaks += [f"{where}: {leak}" for leak in leaks_in(answer, seen_by)]
    tally.answers.append(answer)


def away_scope(cell: Cell) -> Scope:
    """What the scope outside the home one shows (worked out once per matrix)."""
    if cell.matrix.world not in _AWAY:
        _AWAY[cell.matrix.world] = scope_of(cell.matrix.world, AWAY)
    return _AWAY[cell.matrix.world]


_AWAY: dict[World, Scope] = {}


def run_matrix(app: FastAPI, matrix: Matrix, role: str) -> Tally:
    flags = {
        True: flagged_seq(app, HOME, matrix.ids.inside["person"]),
        False: flagged_seq(app, AWAY, matrix.ids.outside["person"]),
    }
    # a colleague whose scope reaches beyond the home scope opens what only it can see: the
    # supervisor reviews that colleague's flags, but may not learn what the flag was about
    flagged_seq(app, (HOME[0], AWAY[0]), matrix.ids.outside["person"])
    duty_reports = {
        True: filed_report(app, HOME, "NS1 4QT"),
        False: filed_report(app, AWAY, "WX1 2PR"),
    }
    member = signed_in(app, role, HOME)
    newcomers = {inside: Newcomer(app, role, HOME if inside else AWAY) for inside in (True, False)}
    tally = Tally()
    with member.client:
        for method, path, permission in declared(app):
            for inside in (True, False):
                cell = Cell(app, matrix, member, role, inside, flags, newcomers, duty_reports)
                run_cell(cell, method, path, permission, tally)
    return tally


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_every_route_answers_every_role_inside_and_outside_its_scope(
    served: FastAPI, matrix: Matrix, role: str
) -> None:
    tally = run_matrix(served, matrix, role)
    routes = len(declared(served))
    assert tally.cells == 2 * routes
    assert not tally.failures, f"{len(tally.failures)} of {tally.cells} cells wrong:\n" + "\n".join(
        tally.failures
    )
    assert not tally.leaks, f"{len(tally.leaks)} leaks across agencies:\n" + "\n".join(tally.leaks)
    victim = matrix.victim
    text = "\n".join(answer.text.lower() for answer in tally.answers)
    shown = victim.surname.lower() in text and victim.birth_date in text
    if allowed(role, Permission.READ_CASEWORK):
        assert shown == allowed(role, Permission.READ_VICTIM_DETAILS), (
            f"a victim's surname and birth date {'reach' if shown else 'miss'} a {role}"
        )
    else:
        assert not shown, f"a victim's details reach a {role}"


def test_every_route_declares_a_permission_and_has_an_example(served: FastAPI) -> None:
    routes = declared(served)
    assert routes
    for method, path, _ in routes:
        example_of(method, path)
        kinds_in(path)
    stale = set(EXAMPLES) - {(method, path) for method, path, _ in routes}
    assert not stale, f"examples for routes the application no longer serves: {sorted(stale)}"


def test_without_a_sign_in_only_the_public_routes_answer(served: FastAPI, matrix: Matrix) -> None:
    with TestClient(served) as client:
        for method, path, permission in declared(served):
            if isinstance(permission, Public):
                continue
            answer = client.request(method, fill(path, lambda kind: NOWHERE.get(kind, "1")))
            assert answer.status_code == 401, f"{method} {path}: {answer.status_code}"
            assert not leaks_in(answer, matrix.home)


def test_a_network_straddling_the_scope_withholds_the_members_outside_it(
    served: FastAPI, matrix: Matrix
) -> None:
    network = matrix.ids.inside["network"]
    home = matrix.home
    rows = snapshot_rows(
        matrix.world, "SELECT person_id FROM network_member WHERE network_id = ?", [network]
    )
    members = {str(row[0]) for row in rows}
    hidden = members - home.visible["person"]
    analyst = signed_in(served, "analyst", HOME)
    with analyst.client as client:
        shown = client.get(f"/api/networks/{network}").json()
        exported = client.get(f"/api/networks/{network}/export", params={"format": "graphml"})
    names = [m["person_id"] for m in shown["members"]]
    withheld = [m["person_id"] for m in shown["members"] if not m["visible"]]
    assert withheld == [f"withheld-{n}" for n in range(1, len(hidden) + 1)]
    assert set(names) - set(withheld) == members & home.visible["person"]
    ends = {e[end] for e in shown["edges"] for end in ("person_a", "person_b")}
    assert ends <= set(names) and ends & set(withheld)
    assert {e for edge in shown["edges"] for e in edge["events"]} <= home.visible["event"]
    assert set(shown["network"]["central_suspects"]) <= home.visible["person"]
    graph = nx.read_graphml(io.BytesIO(exported.content))
    assert set(graph.nodes) == set(names)
