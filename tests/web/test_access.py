"""The data-access layer's rules, seen through the API: agency scope (outside it nothing exists),
victims' details masked by role, break glass beyond one's assignments, and a trail entry, ids
only, for every read of personal data and every write.

What should be visible is worked out here from the snapshot's own tables, by SQL written for
the test, not by the service's scope expressions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from casebridge.web.config import ServiceSettings
from casebridge.web.models import TrailEntry
from tests.web.casework_world import (
    HOSTILE,
    NORTHSHIRE,
    PLANTED_AGENCY,
    World,
    built_world,
    login,
    serving,
    snapshot_rows,
)

VICTIM, SUSPECT, WITNESS = "southmoor:SM-P0001", "southmoor:SM-P0002", "southmoor:SM-P0004"
CRIME_ITEM = "event:southmoor:SM/2020/000001"
IN_AGENCY = """SELECT DISTINCT l.person_id FROM person_link l
    JOIN person_record r ON r.record_id = l.record_id
    JOIN source s ON s.source = r.source WHERE s.agency = ?"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return built_world(tmp_path_factory.mktemp)


@pytest.fixture
def served(service_settings: ServiceSettings, world: World) -> Iterator[FastAPI]:
    with serving(service_settings, world) as app:
        yield app


def person_of(world: World, record_id: str) -> str:
    found = snapshot_rows(
        world, "SELECT person_id FROM person_link WHERE record_id = ?", [record_id]
    )
    return str(found[0][0])


def persons_in(world: World, agency: str) -> set[str]:
    return {str(row[0]) for row in snapshot_rows(world, IN_AGENCY, [agency])}


def trail(app: FastAPI) -> list[TrailEntry]:
    """The casework entries of the trail (signing in writes entries of its own)."""
    with app.state.sessions() as session:
        entries = session.scalars(select(TrailEntry).order_by(TrailEntry.seq))
        return [entry for entry in entries if entry.action.startswith("casework.")]


def test_outside_its_scope_a_person_does_not_exist(served: FastAPI, world: World) -> None:
    app = served
    everyone = {str(row[0]) for row in snapshot_rows(world, "SELECT person_id FROM person")}
    inside = persons_in(world, NORTHSHIRE)
    outside = everyone - inside
    assert inside and outside
    with TestClient(app) as client:
        login(client, app, "analyst", NORTHSHIRE)
        missing = client.get("/api/persons/PN9999999")
        for person in sorted(inside)[:8]:
            assert client.get(f"/api/persons/{person}").status_code == 200
        for person in sorted(outside)[:8]:
            answer = client.get(f"/api/persons/{person}")
            assert (answer.status_code, answer.json()) == (404, missing.json())
    assert missing.status_code == 404


def test_a_person_known_to_another_agency_brings_their_other_records_into_view(
    served: FastAPI, world: World
) -> None:
    app = served
    crossing = snapshot_rows(
        world,
        """SELECT l.person_id, r.record_id FROM person_link l
        JOIN person_record r ON r.record_id = l.record_id
        JOIN source s ON s.source = r.source
        WHERE s.agency <> ? AND l.person_id IN ("""
        + IN_AGENCY
        + ") ORDER BY 1, 2 LIMIT 1",
        [NORTHSHIRE, NORTHSHIRE],
    )
    lonely = snapshot_rows(
        world,
        "SELECT record_id FROM person_link WHERE person_id NOT IN (" + IN_AGENCY + ") LIMIT 1",
        [NORTHSHIRE],
    )
    assert crossing and lonely
    person, elsewhere = str(crossing[0][0]), str(crossing[0][1])
    with TestClient(app) as client:
        login(client, app, "analyst", NORTHSHIRE)
        shown = client.get(f"/api/persons/{person}").json()
        assert elsewhere in {record["record_id"] for record in shown["records"]}
        agencies = {record["agency"] for record in shown["records"]}
        assert NORTHSHIRE in agencies and len(agencies) > 1
        assert client.get(f"/api/records/{elsewhere}").status_code == 200
        assert client.get(f"/api/records/{lonely[0][0]}").status_code == 404


def test_the_queue_holds_exactly_the_items_in_scope(served: FastAPI, world: World) -> None:
    app = served
    inside = persons_in(world, NORTHSHIRE)
    expected = set()
    for item, event, person, source in snapshot_rows(
        world, "SELECT item_id, event_id, person_id, source FROM review_item"
    ):
        involved = {
            str(row[0])
            for row in snapshot_rows(
                world,
                "SELECT l.person_id FROM involvement i JOIN person_link l "
                "ON l.record_id = i.record_id WHERE i.event_id = ?",
                [event],
            )
        }
        agency = snapshot_rows(world, "SELECT agency FROM source WHERE source = ?", [source])
        if (
            (person is not None and person in inside)
            or (agency and agency[0][0] == NORTHSHIRE)
            or involved & inside
        ):
            expected.add(item)
    everything = {str(row[0]) for row in snapshot_rows(world, "SELECT item_id FROM review_item")}
    assert expected and everything - expected
    with TestClient(app) as client:
        login(client, app, "analyst", NORTHSHIRE)
        listed = set()
        for page in (1, 2, 3, 4, 5):
            answer = client.get("/api/queue", params={"page": page, "page_size": 100}).json()
            listed |= {item["item_id"] for item in answer["items"]}
        assert answer["total"] == len(expected)
        assert listed == expected
        outside = sorted(everything - expected)[0]
        assert client.get(f"/api/items/{outside}").status_code == 404
        assert client.get(f"/api/items/{sorted(expected)[0]}").status_code == 200


def test_a_network_is_visible_when_one_of_its_members_is(served: FastAPI, world: World) -> None:
    app = served
    planted = persons_in(world, PLANTED_AGENCY)
    expected = {
        str(network)
        for network, person in snapshot_rows(
            world, "SELECT network_id, person_id FROM network_member"
        )
        if person in planted
    }
    everything = {str(row[0]) for row in snapshot_rows(world, "SELECT network_id FROM network")}
    assert expected and everything - expected
    with TestClient(app) as client:
        login(client, app, "analyst", PLANTED_AGENCY)
        listed = client.get("/api/networks").json()
        assert {n["network_id"] for n in listed["networks"]} == expected
        for network in everything - expected:
            assert client.get(f"/api/networks/{network}").status_code == 404
        shown = client.get(f"/api/networks/{sorted(expected)[0]}").json()
        assert {m["person_id"] for m in shown["members"] if m["visible"]} <= planted


def test_victims_details_are_masked_for_roles_that_do_not_need_them(
    served: FastAPI, world: World
) -> None:
    app = served
    victim = person_of(world, VICTIM)
    with TestClient(app) as client:
        login(client, app, "analyst", PLANTED_AGENCY)
        masked = client.get(f"/api/persons/{victim}").json()
        record = client.get(f"/api/records/{VICTIM}").json()
        event = client.get("/api/events/southmoor:SM/2020/000001").json()
        suspect = client.get(f"/api/persons/{person_of(world, SUSPECT)}").json()
        login(client, app, "supervisor", PLANTED_AGENCY)
        shown = client.get(f"/api/records/{VICTIM}").json()
    person = masked["person"]
    assert person["protected"] and person["surname"] is None and person["date_of_birth"] is None
    assert {"surname", "date_of_birth"} <= set(person["masked"])
    assert masked["records"][0]["age_band"] == "13 to 15"  # kept: the age band
    assert {"surname", "date_of_birth", "postcode"} <= set(
        record["masked"] + record["record"]["masked"]
    )
    values = {f["field"]: f for f in record["record"]["fields"]}
    assert values["surname"]["raw"] is None and values["sex"]["value"] == "F"
    assert all(f["raw"] is None for row in record["rows"] for f in row["fields"]
               if f["field"] in ("surname", "forenames"))  # fmt: skip
    assert "detail" in event["masked"]
    victims = [p for p in event["involvements"] if p["role"] == "victim"]
    suspects = [p for p in event["involvements"] if p["role"] == "suspect"]
    assert victims[0]["surname"] is None and suspects[0]["surname"] is not None
    assert not suspect["person"]["masked"] and suspect["person"]["surname"] == "smyth"
    surname = {f["field"]: f for f in shown["record"]["fields"]}["surname"]
    assert surname["raw"] == HOSTILE["victim_surname"] and not shown["record"]["masked"]


def test_a_reviewer_needs_a_reason_beyond_their_assignments(served: FastAPI, world: World) -> None:
    app = served
    suspect, witness = person_of(world, SUSPECT), person_of(world, WITNESS)
    network = str(
        snapshot_rows(
            world, "SELECT network_id FROM network_member WHERE person_id = ?", [suspect]
        )[0][0]
    )
    with TestClient(app) as client:
        reviewer = login(client, app, "reviewer", PLANTED_AGENCY)
        refused = client.get(f"/api/persons/{suspect}")
        assert refused.status_code == 403 and "reason" in refused.json()["detail"]
        allowed = client.get(f"/api/persons/{suspect}", headers={"X-Access-Reason": "duty call"})
        assert allowed.status_code == 200
        assert client.get(f"/api/networks/{network}").status_code == 403
        mine = client.post(f"/api/items/{CRIME_ITEM}/assignment", json={})
        assert mine.status_code == 200 and mine.json()["assignee_id"] == reviewer.account_id
        # what the assigned item concerns opens without a reason
        event = "/api/events/southmoor:SM/2020/000001"
        concerned = (f"/api/persons/{suspect}", f"/api/networks/{network}",
                     f"/api/items/{CRIME_ITEM}", event)  # fmt: skip
        for path in concerned:
            assert client.get(path).status_code == 200, path
        # the witness of another event does not
        assert client.get(f"/api/persons/{witness}").status_code == 403
        assert (
            client.get(f"/api/persons/{witness}", params={"reason": "checking"}).status_code == 200
        )
    entries = [e for e in trail(app) if e.account_id == reviewer.account_id]
    flagged = [(e.action, json.loads(e.subject_ids), e.reason) for e in entries if e.flagged]
    assert flagged == [
        ("casework.read_person", [suspect], "duty call"),
        ("casework.read_person", [witness], "checking"),
    ]


@pytest.mark.parametrize("role", ["analyst", "supervisor"])
def test_analysts_and_supervisors_are_not_bound_to_assignments(
    served: FastAPI, world: World, role: str
) -> None:
    app = served
    with TestClient(app) as client:
        login(client, app, role, PLANTED_AGENCY)
        assert client.get(f"/api/persons/{person_of(world, WITNESS)}").status_code == 200
    assert not any(entry.flagged for entry in trail(app))


def test_every_read_and_write_is_trailed_with_ids_only(served: FastAPI, world: World) -> None:
    app = served
    victim = person_of(world, VICTIM)
    with TestClient(app) as client:
        supervisor = login(client, app, "supervisor", PLANTED_AGENCY)
        client.get("/api/queue")
        client.get(f"/api/persons/{victim}")
        client.get(f"/api/records/{VICTIM}")
        client.get("/api/pairs", params={"first": VICTIM, "second": SUSPECT})
        client.post("/api/search", json={"name": "Robert Smith", "reason": "a call"})
        client.post(f"/api/items/{CRIME_ITEM}/notes", json={"text": "Rupert Smyth phoned"})
        client.post(f"/api/items/{CRIME_ITEM}/status", json={"status": "in_review"})
    entries = [e for e in trail(app) if e.account_id == supervisor.account_id]
    assert [e.action.removeprefix("casework.") for e in entries] == [
        "read_queue", "read_person", "read_record", "read_pair", "search", "add_note",
        "set_item_status",
    ]  # fmt: skip
    assert json.loads(entries[1].subject_ids) == [victim]
    assert json.loads(entries[3].subject_ids) == sorted([VICTIM, SUSPECT])
    assert entries[4].reason == "a call"
    written = " ".join(
        f"{e.action} {e.subject_kind} {e.subject_ids} {e.reason}" for e in trail(app)
    ).lower()
    for name in ("rupert", "smyth", "robert", "smith", "script", "hyperlink"):
        assert name not in written


@pytest.mark.parametrize(
    ("role", "path"),
    [("auditor", "/api/queue"), ("administrator", "/api/persons/PN0000001"),
     ("analyst", "/api/pairs/judgements"), ("reviewer", "/api/networks/N-1/export")],
)  # fmt: skip
def test_a_role_without_the_permission_is_refused(served: FastAPI, role: str, path: str) -> None:
    app = served
    with TestClient(app) as client:
        login(client, app, role, PLANTED_AGENCY)
        answer = client.post(path, json={}) if path.endswith("judgements") else client.get(path)
    assert answer.status_code == 403
    assert trail(app) == []


def test_without_a_sign_in_nothing_is_served(served: FastAPI) -> None:
    app = served
    with TestClient(app) as client:
        assert client.get("/api/queue").status_code == 401
