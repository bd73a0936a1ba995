"""The trail's routes: auditors read, filter, export, verify and prove; supervisors review
flagged entries; reading is itself recorded; and no route can change or delete an entry."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner

from casebridge.cli import app as cli
from casebridge.web.app import create_app
from casebridge.web.auth.csrf import require_csrf_token
from casebridge.web.checkpoints import KEY_VARIABLE, read_note
from casebridge.web.config import DATABASE_URL_VARIABLE, ServiceSettings
from casebridge.web.db import transaction
from casebridge.web.deps import Principal
from casebridge.web.merkle import verify_consistency, verify_inclusion
from casebridge.web.models import Account, AccountScope, FlagReview, TrailEntry
from casebridge.web.permissions import Role, api_routes
from casebridge.web.routes.trail import PREFIX
from casebridge.web.trail import as_utc, record

NORTHSHIRE, EASTMOOR = "Northshire Police", "Eastmoor Council"
# invented people, one account per role and agency the tests need
PEOPLE = {
    "auditor": ("m.achterberg", Role.AUDITOR, ()),
    "supervisor": ("k.osei", Role.SUPERVISOR, (NORTHSHIRE,)),
    "reviewer_north": ("t.brannigan", Role.REVIEWER, (NORTHSHIRE,)),
    "reviewer_east": ("y.haddad", Role.REVIEWER, (EASTMOOR,)),
    "administrator": ("p.sorensen", Role.ADMINISTRATOR, ()),
    "analyst": ("l.moreau", Role.ANALYST, (NORTHSHIRE,)),
}


@dataclass
class Service:
    """The application, its client, and its accounts as principals."""

    app: FastAPI
    client: TestClient
    people: dict[str, Principal]

    def act_as(self, who: str | None) -> None:
        """Act as ``who`` (None: nobody), as the session lookup would give them."""
        principal = None if who is None else self.people[who]
        self.app.state.principal_of = lambda request: principal

    def get(self, path: str, **params: object) -> object:
        answer = self.client.get(PREFIX + path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def entries(self) -> list[TrailEntry]:
        with self.app.state.sessions() as session:
            return list(session.scalars(select(TrailEntry).order_by(TrailEntry.seq)))

    def append(self, who: str, action: str, ids: list[str], flagged: bool = False) -> None:
        with transaction(self.app.state.sessions) as session:
            record(session, self.people[who], action, "person", ids, flagged=flagged)


@pytest.fixture
def service(
    service_settings: ServiceSettings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Service]:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    app = create_app(service_settings.model_copy(update={"checkpoint_every": 5}))
    people = {}
    with transaction(app.state.sessions) as session:
        for key, (username, role, agencies) in PEOPLE.items():
            account = Account(username=username, display_name=username, role=role.value)
            session.add(account)
            session.flush()
            session.add_all(AccountScope(account_id=account.id, agency=a) for a in agencies)
            people[key] = Principal(account.id, username, role.value, frozenset(agencies))
    # these tests act as principals without signing in, so there is no session to hold a CSRF
    # token: test_auth checks the token on every write, the route matrix with real sign-ins
    app.dependency_overrides[require_csrf_token] = lambda: None
    with TestClient(app) as client:
        built = Service(app, client, people)
        built.act_as("auditor")
        yield built
    app.state.engine.dispose()


@pytest.fixture
def seeded(service: Service) -> Service:
    """Six entries: reads by two reviewers, one of them break-glass in each agency."""
    service.append("reviewer_north", "person.read", ["person:1", "person:2"])
    service.append("reviewer_north", "person.read", ["Person:1"])
    service.append("reviewer_north", "network.read", ["network:4"], flagged=True)
    service.append("reviewer_east", "person.read", ["person:1"])
    service.append("reviewer_east", "person.read", ["person:3"], flagged=True)
    service.append("reviewer_north", "item.write", ["item:9"])
    return service


def _seqs(page: object) -> list[int]:
    assert isinstance(page, dict)
    return [entry["seq"] for entry in page["entries"]]


def test_auditors_filter_the_trail(seeded: Service) -> None:
    north = seeded.people["reviewer_north"].account_id
    assert _seqs(seeded.get("/entries", account_id=north)) == [0, 1, 2, 5]
    assert _seqs(seeded.get("/entries", action="person.read")) == [0, 1, 3, 4]
    assert _seqs(seeded.get("/entries", subject_id="person:1")) == [0, 3]  # not "Person:1"
    assert _seqs(seeded.get("/entries", subject_id="person")) == []  # whole ids only
    assert _seqs(seeded.get("/entries", flagged=True)) == [2, 4]
    assert _seqs(seeded.get("/entries", subject_kind="person", account_id=north)) == [0, 1, 2, 5]
    middle = seeded.entries()[3].at
    assert _seqs(seeded.get("/entries", since=middle.isoformat(), subject_kind="person")) == [
        3,
        4,
        5,
    ]
    assert _seqs(seeded.get("/entries", until=middle.isoformat(), account_id=north)) == [0, 1, 2]


def test_times_in_another_zone_mean_the_same_instant(seeded: Service) -> None:
    middle = as_utc(seeded.entries()[3].at)
    in_new_york = middle.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    assert _seqs(seeded.get("/entries", since=in_new_york.isoformat(), flagged=False)) == [3, 5]


def test_pages_and_totals(seeded: Service) -> None:
    page = seeded.get("/entries", page=2, page_size=4)
    assert isinstance(page, dict)
    assert page["total"] == 6 and _seqs(page) == [4, 5]
    assert page["entries"][0]["subject_ids"] == ["person:3"]


def test_reading_the_trail_is_recorded(seeded: Service) -> None:
    seeded.get("/entries", flagged=True)
    last = seeded.entries()[-1]
    assert last.action == "trail.read"
    assert last.account_id == seeded.people["auditor"].account_id
    assert json.loads(last.subject_ids) == ["2", "4"]


@pytest.mark.parametrize("who", ["supervisor", "reviewer_north", "administrator", "analyst"])
def test_only_auditors_read_the_trail(seeded: Service, who: str) -> None:
    seeded.act_as(who)
    for path in ("/entries", "/export", "/verify", "/checkpoints", "/public-keys"):
        assert seeded.client.get(PREFIX + path).status_code == 403
    seeded.act_as(None)
    assert seeded.client.get(PREFIX + "/entries").status_code == 401


def test_auditors_export_csv_and_json(seeded: Service) -> None:
    answer = seeded.client.get(PREFIX + "/export", params={"flagged": True})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [row["seq"] for row in rows] == ["2", "4"]
    assert json.loads(rows[0]["subject_ids"]) == ["network:4"]
    answer = seeded.client.get(PREFIX + "/export", params={"format": "json"})
    exported = answer.json()
    assert [entry["seq"] for entry in exported] == list(range(7))  # the CSV export is one more
    assert seeded.entries()[-1].action == "trail.export"


def test_the_service_verifies_as_the_command_does(
    seeded: Service, service_settings: ServiceSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded.append("reviewer_east", "person.read", ["person:7"])
    with seeded.app.state.engine.begin() as connection:
        connection.execute(text("UPDATE trail_entry SET action = 'person.write' WHERE seq = 3"))
    answer = seeded.get("/verify")
    assert isinstance(answer, dict) and answer["failed"] is True
    served = [f for f in answer["findings"] if f["verdict"] == "FAIL"]
    assert served == [
        {
            "verdict": "FAIL",
            "problem": "edited",
            "where": "entry 3",
            "detail": "its contents were changed after it was written: they no longer match "
            "its hash",
        }
    ]
    monkeypatch.setenv(DATABASE_URL_VARIABLE, service_settings.database_url)
    result = CliRunner().invoke(
        cli, ["trail", "verify", "-w", str(service_settings.workspace), "--format", "json"]
    )
    assert result.exit_code == 1
    given = [f for f in json.loads(result.stdout)["trail_verify"] if f["verdict"] == "FAIL"]
    assert given == served


def test_checkpoints_and_proofs_verify_from_outside(seeded: Service) -> None:
    checkpoints = seeded.get("/checkpoints")
    assert isinstance(checkpoints, list) and [c["tree_size"] for c in checkpoints] == [5]
    [key] = seeded.get("/public-keys")  # type: ignore[misc]
    assert key["key_id"] == checkpoints[0]["key_id"]
    note = read_note(checkpoints[0]["note"], "served note")
    assert note.root.hex() == checkpoints[0]["root_hash"]
    root = bytes.fromhex(checkpoints[0]["root_hash"])
    for seq in range(5):
        proof = seeded.get("/proofs/inclusion", seq=seq, tree_size=5)
        assert isinstance(proof, dict) and proof["root_hash"] == checkpoints[0]["root_hash"]
        nodes = [bytes.fromhex(node) for node in proof["proof"]]
        assert verify_inclusion(seq, 5, bytes.fromhex(proof["leaf_hash"]), nodes, root)
    proof = seeded.get("/proofs/consistency", first=5)
    assert isinstance(proof, dict) and proof["first_root_hash"] == checkpoints[0]["root_hash"]
    nodes = [bytes.fromhex(node) for node in proof["proof"]]
    second_root = bytes.fromhex(proof["second_root_hash"])
    assert verify_consistency(5, proof["second"], root, second_root, nodes)
    assert seeded.client.get(PREFIX + "/proofs/inclusion", params={"seq": 999}).status_code == 404


def test_supervisors_review_flags_in_their_agencies(seeded: Service) -> None:
    seeded.act_as("supervisor")
    flags = seeded.get("/flags")
    assert isinstance(flags, list)
    assert [flag["entry"]["seq"] for flag in flags] == [2]  # not Eastmoor's break-glass
    answer = seeded.client.post(PREFIX + "/flags/2/review", json={"outcome": "urgent referral"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["outcome"] == "urgent referral"
    again = seeded.client.post(PREFIX + "/flags/2/review", json={"outcome": "seen twice"})
    assert again.status_code == 409
    for elsewhere in (4, 0, 999):  # another agency's flag, an unflagged entry, no entry
        answer = seeded.client.post(PREFIX + f"/flags/{elsewhere}/review", json={"outcome": "x"})
        assert answer.status_code == 404
    flags = seeded.get("/flags", reviewed=True)
    assert isinstance(flags, list) and flags[0]["review"]["outcome"] == "urgent referral"
    assert seeded.get("/flags", reviewed=False) == []
    actions = [(e.action, json.loads(e.subject_ids)) for e in seeded.entries()]
    assert ("trail.review_flag", ["2"]) in actions
    with seeded.app.state.sessions() as session:
        assert session.scalars(select(FlagReview.trail_seq)).all() == [2]


def test_auditors_do_not_review_flags(seeded: Service) -> None:
    assert seeded.client.get(PREFIX + "/flags").status_code == 403
    answer = seeded.client.post(PREFIX + "/flags/2/review", json={"outcome": "x"})
    assert answer.status_code == 403


def test_no_route_changes_or_deletes_the_trail(service: Service) -> None:
    trail_routes = [r for r in api_routes(service.app.routes) if r.path.startswith(PREFIX)]
    assert len(trail_routes) >= 9
    for declared in trail_routes:
        assert not declared.methods & {"PUT", "PATCH", "DELETE"}, declared.path
        if "POST" in declared.methods:  # the one write: a review is a new row, not a change
            assert declared.path == PREFIX + "/flags/{seq}/review"
    for method in ("PUT", "PATCH", "DELETE"):
        assert service.client.request(method, PREFIX + "/entries").status_code == 405
    assert set(service.app.openapi()["paths"]) >= {PREFIX + "/entries", PREFIX + "/verify"}
