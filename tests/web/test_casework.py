"""The casework API's routes: the queue and its filters, an item as ``screen explain`` gives it,
status, assignment and notes, persons, records, events, pairs and judgements, networks and
their exports, search; hostile values come back as they were written."""

from __future__ import annotations

import csv
import io
import math
import zipfile
from collections.abc import Iterator

import networkx as nx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from casebridge.web.config import ServiceSettings
from casebridge.web.permissions import Permission, api_routes, permission_of
from casebridge.web.services.exports import FORMULA_STARTS, neutralise_cell
from tests.web.casework_world import (
    HOSTILE,
    LONG_NAME,
    NORTHSHIRE,
    PLANTED_AGENCY,
    World,
    built_world,
    login,
    serving,
    snapshot_rows,
)

CRIME = "southmoor:SM/2020/000001"
CRIME_ITEM = f"event:{CRIME}"
VICTIM, SUSPECT, SECOND, WITNESS = (f"southmoor:SM-P000{n}" for n in (1, 2, 3, 4))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return built_world(tmp_path_factory.mktemp)


@pytest.fixture
def served(service_settings: ServiceSettings, world: World) -> Iterator[FastAPI]:
    with serving(service_settings, world) as app:
        yield app


def agencies(world: World) -> set[str]:
    return {str(row[0]) for row in snapshot_rows(world, "SELECT agency FROM source")}


def person_of(world: World, record_id: str) -> str:
    found = snapshot_rows(
        world, "SELECT person_id FROM person_link WHERE record_id = ?", [record_id]
    )
    return str(found[0][0])


# ---- the queue and its items -------------------------------------------------------------


def test_the_queue_is_ordered_paged_and_filtered(served: FastAPI, world: World) -> None:
    with TestClient(served) as client:
        login(client, served, "supervisor", *agencies(world))
        everything = client.get("/api/queue", params={"page_size": 100}).json()
        items = everything["items"]
        assert (
            everything["total"]
            == len(items)
            == len(snapshot_rows(world, "SELECT 1 FROM review_item"))
        )
        assert [i["priority"] for i in items] == sorted(
            (i["priority"] for i in items), reverse=True
        )
        pages = [
            client.get("/api/queue", params={"page": p, "page_size": 7}).json() for p in (1, 2)
        ]
        assert [i["item_id"] for p in pages for i in p["items"]] == [
            i["item_id"] for i in items[:14]
        ]
        rule = items[0]["rules"][0]
        by_rule = client.get("/api/queue", params={"rule": rule, "page_size": 100}).json()
        assert by_rule["total"] == sum(rule in i["rules"] for i in items) > 0
        floor = items[0]["priority"]
        heavy = client.get("/api/queue", params={"priority_min": floor}).json()
        assert heavy["total"] == sum(i["priority"] >= floor for i in items)
        by_agency = client.get("/api/queue", params={"agency": PLANTED_AGENCY}).json()
        assert [i["item_id"] for i in by_agency["items"]] == [CRIME_ITEM]
        dated = client.get(
            "/api/queue",
            params={"date_from": "2020-01-01", "date_to": "2020-12-31", "page_size": 100},
        ).json()
        assert dated["total"] == sum(
            i["event_date"] is not None and "2020-01-01" <= i["event_date"] <= "2020-12-31"
            for i in items
        )
        client.post(f"/api/items/{CRIME_ITEM}/assignment", json={})
        client.post(
            f"/api/items/{CRIME_ITEM}/status", json={"status": "referred", "reason": "to CPS"}
        )
        mine = client.get("/api/queue", params={"assignee": "me"}).json()
        referred = client.get("/api/queue", params={"status": "referred"}).json()
        fresh = client.get("/api/queue", params={"status": "new", "page_size": 100}).json()
        unassigned = client.get("/api/queue", params={"assignee": "none", "page_size": 100}).json()
    assert (
        [i["item_id"] for i in mine["items"]]
        == [i["item_id"] for i in referred["items"]]
        == [CRIME_ITEM]
    )
    assert referred["items"][0]["status"] == "referred"
    assert fresh["total"] == unassigned["total"] == everything["total"] - 1
    assert client.get("/api/queue", params={"page_size": 101}).status_code == 422


def test_an_item_gives_what_screen_explain_gives(served: FastAPI, world: World) -> None:
    with TestClient(served) as client:
        login(client, served, "supervisor", PLANTED_AGENCY)
        item = client.get(f"/api/items/{CRIME_ITEM}").json()
    reasons = snapshot_rows(
        world,
        "SELECT rule_id, title, weight, reason, basis, detail FROM review_reason "
        "WHERE item_id = ? ORDER BY weight DESC, rule_id",
        [CRIME_ITEM],
    )
    assert [tuple(r.values()) for r in item["reasons"]] == [tuple(r) for r in reasons]
    assert item["item"]["rules"] == sorted({r[0] for r in reasons})
    assert item["reason"] and all(r["basis"] for r in item["reasons"])
    cited = {(e["evidence"], e["record_id"] or e["event_id"]) for e in item["evidence"]}
    assert ("event", CRIME) in cited and ("person_record", SUSPECT) in cited
    assert item["item"]["status"] == "new" and item["assignment"] is None


def test_status_assignment_and_notes_follow_the_rules(served: FastAPI, world: World) -> None:
    with TestClient(served) as client:
        first = login(client, served, "reviewer", PLANTED_AGENCY)
        status = f"/api/items/{CRIME_ITEM}/status"
        assign = f"/api/items/{CRIME_ITEM}/assignment"
        assert client.post(status, json={"status": "in_review"}).status_code == 403  # not theirs
        assert client.post(assign, json={}).json()["assignee_id"] == first.account_id
        assert client.post(status, json={"status": "no_further_action"}).status_code == 422
        closed = client.post(status, json={"status": "no_further_action", "reason": "reviewed"})
        assert closed.status_code == 200 and closed.json()["reason"] == "reviewed"
        note = client.post(f"/api/items/{CRIME_ITEM}/notes", json={"text": "called the OIC"})
        assert note.status_code == 201
        second = login(client, served, "reviewer", PLANTED_AGENCY)
        assert client.post(assign, json={}).status_code == 409  # held by the first
        assert client.post(assign, json={"assignee_id": first.account_id}).status_code == 403
        outsider = login(client, served, "reviewer", NORTHSHIRE)
        supervisor = login(client, served, "supervisor", PLANTED_AGENCY)
        assert client.post(assign, json={"assignee_id": outsider.account_id}).status_code == 422
        moved = client.post(assign, json={"assignee_id": second.account_id})
        assert moved.json()["assignee_id"] == second.account_id
        assert moved.json()["assigned_by"] == supervisor.account_id
        item = client.get(f"/api/items/{CRIME_ITEM}").json()
    assert [s["status"] for s in item["statuses"]] == ["no_further_action"]
    assert item["item"]["status"] == "no_further_action"
    assert item["item"]["assignee_id"] == second.account_id
    assert [n["text"] for n in item["notes"]] == ["called the OIC"]


# ---- persons, records, events ------------------------------------------------------------


def test_a_person_shows_records_with_provenance_events_networks_and_items(
    served: FastAPI, world: World
) -> None:
    multi = snapshot_rows(
        world, "SELECT person_id FROM person WHERE sources > 1 ORDER BY person_id"
    )
    suspect = person_of(world, SUSPECT)
    with TestClient(served) as client:
        login(client, served, "supervisor", *agencies(world))
        person = client.get(f"/api/persons/{multi[0][0]}").json()
        planted = client.get(f"/api/persons/{suspect}").json()
    assert len({r["source"] for r in person["records"]}) == person["person"]["sources"] > 1
    for record in person["records"]:
        assert record["file_name"] and record["first_row"] and record["agency"]
        assert 0 < record["link_probability"] <= 1
    dates = [e["event_date"] for e in person["events"] if e["event_date"]]
    assert dates == sorted(dates) and person["events"]
    record = planted["records"][0]
    fields = {f["field"]: f for f in record["fields"]}
    assert fields["surname"] == {"field": "surname", "raw": "Smyth", "value": "smyth"}
    assert fields["forenames"]["raw"] == "Rupert"
    assert record["file_name"] == "southmoor.csv" and record["first_row"] == 2
    assert [n["role"] for n in planted["networks"]] == ["suspect"]
    assert [i["item_id"] for i in planted["items"]] == [CRIME_ITEM]
    assert [(e["event_id"], e["role"]) for e in planted["events"]] == [(CRIME, "suspect")]


def test_an_event_shows_its_values_raw_beside_standardised_and_who_was_involved(
    served: FastAPI,
) -> None:
    with TestClient(served) as client:
        login(client, served, "supervisor", PLANTED_AGENCY)
        event = client.get(f"/api/events/{CRIME}").json()
    fields = {f["field"]: f for f in event["fields"]}
    assert fields["offence"] == {"field": "offence", "raw": "22B", "value": "22B"}
    assert fields["event_date"]["value"] == "2020-06-01"
    assert event["agency"] == PLANTED_AGENCY and event["local_id"] == "SM/2020/000001"
    roles = sorted((p["record_id"], p["role"]) for p in event["involvements"])
    assert roles == [(VICTIM, "victim"), (SUSPECT, "suspect"), (SECOND, "suspect")]
    victim = next(p for p in event["involvements"] if p["role"] == "victim")
    assert (victim["age_at_event"], victim["age_band"]) == (14, "13 to 15")


# ---- pairs and judgements ----------------------------------------------------------------


def test_a_pair_is_explained_weight_by_weight(served: FastAPI, world: World) -> None:
    left, right, weight, probability = snapshot_rows(
        world,
        "SELECT record_l, record_r, match_weight, match_probability FROM match_pair "
        "ORDER BY match_probability DESC, record_l LIMIT 1",
    )[0]
    with TestClient(served) as client:
        login(client, served, "supervisor", *agencies(world))
        pair = client.get("/api/pairs", params={"first": right, "second": left}).json()
        unscored = client.get("/api/pairs", params={"first": VICTIM, "second": WITNESS}).json()
        same = client.get("/api/pairs", params={"first": VICTIM, "second": VICTIM})
    assert pair["scored"] and math.isclose(pair["match_probability"], float(probability))
    steps = pair["comparisons"]
    assert steps[0]["comparison"] == "prior" and steps[-1]["comparison"] == "total"
    assert math.isclose(sum(s["weight"] for s in steps[:-1]), float(weight), abs_tol=1e-6)
    assert math.isclose(steps[-1]["weight"], float(weight))
    values = {v["field"]: v for v in pair["values"]}
    left_surname = snapshot_rows(
        world, "SELECT surname FROM person_record WHERE record_id = ?", [left]
    )
    assert values["surname"]["second"] == left_surname[0][0]  # 'first' was the right record
    assert not unscored["scored"] and unscored["comparisons"] == [] and not unscored["same_person"]
    assert same.status_code == 422


def test_a_judgement_is_stored_with_its_pair(served: FastAPI) -> None:
    with TestClient(served) as client:
        reviewer = login(client, served, "reviewer", PLANTED_AGENCY)
        body = {"first": WITNESS, "second": VICTIM, "verdict": "different", "reason": "ages"}
        refused = client.post("/api/pairs/judgements", json=body)
        judged = client.post("/api/pairs/judgements", json=body, headers={"X-Access-Reason": "x"})
        wrong = client.post("/api/pairs/judgements", json={**body, "verdict": "maybe"})
        pair = client.get("/api/pairs", params={"first": VICTIM, "second": WITNESS, "reason": "x"})
    assert refused.status_code == 403 and judged.status_code == 201 and wrong.status_code == 422
    stored = judged.json()
    assert (stored["record_l"], stored["record_r"]) == (VICTIM, WITNESS)
    assert stored["account_id"] == reviewer.account_id
    assert [j["verdict"] for j in pair.json()["judgements"]] == ["different"]


# ---- networks ----------------------------------------------------------------------------


def planted_network(world: World) -> str:
    found = snapshot_rows(
        world,
        "SELECT network_id FROM network_member WHERE person_id = ?",
        [person_of(world, SUSPECT)],
    )
    return str(found[0][0])


def test_a_network_shows_members_and_ties(served: FastAPI, world: World) -> None:
    network = planted_network(world)
    with TestClient(served) as client:
        login(client, served, "analyst", PLANTED_AGENCY)
        shown = client.get(f"/api/networks/{network}").json()
    members = {m["person_id"]: m["role"] for m in shown["members"]}
    assert members == {
        person_of(world, VICTIM): "victim",
        person_of(world, SUSPECT): "suspect",
        person_of(world, SECOND): "suspect",
    }
    kinds = {e["kind"] for e in shown["edges"]}
    assert "co_suspect" in kinds and all(e["events"] == [CRIME] for e in shown["edges"])
    assert shown["network"]["sources"] == ["southmoor"]


def test_a_network_exports_as_graphml_gexf_and_i2(served: FastAPI, world: World) -> None:
    network = planted_network(world)
    path = f"/api/networks/{network}/export"
    with TestClient(served) as client:
        login(client, served, "analyst", PLANTED_AGENCY)
        graphml = client.get(path, params={"format": "graphml"})
        gexf = client.get(path, params={"format": "gexf"})
        i2 = client.get(path, params={"format": "i2"})
        assert client.get(path, params={"format": "xls"}).status_code == 422
    graph = nx.read_graphml(io.BytesIO(graphml.content))
    assert set(graph.nodes) == {person_of(world, r) for r in (VICTIM, SUSPECT, SECOND)}
    assert b"PERSONAL DATA" in gexf.content and gexf.headers["content-type"].startswith(
        "application/gexf+xml"
    )
    assert graphml.headers["content-disposition"] == f'attachment; filename="{network}.graphml"'
    archive = zipfile.ZipFile(io.BytesIO(i2.content))
    assert {"network_nodes.csv", "network_edges.csv"} <= set(archive.namelist())
    nodes = archive.read("network_nodes.csv").decode()
    assert nodes.startswith("# PERSONAL DATA")
    cells = [c for row in csv.reader(io.StringIO(nodes.split("\n", 1)[1])) for c in row]
    assert CRIME in cells and not any(c.startswith(FORMULA_STARTS) for c in cells)


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1"])
def test_a_formula_in_a_csv_cell_is_neutralised(value: str) -> None:
    assert neutralise_cell(value) == "'" + value
    assert neutralise_cell("PN0000001") == "PN0000001"


# ---- search ------------------------------------------------------------------------------


def test_search_needs_a_reason_and_finds_spelling_variants(served: FastAPI, world: World) -> None:
    suspect = person_of(world, SUSPECT)
    with TestClient(served) as client:
        login(client, served, "supervisor", PLANTED_AGENCY)
        refused = client.post("/api/search", json={"name": "Robert Smith"})
        by_name = client.post("/api/search", json={"name": "Robert Smith", "reason": "call"})
        by_header = client.post(
            "/api/search", json={"name": "Smith"}, headers={"X-Access-Reason": "call"}
        )
        by_birth = client.post("/api/search", json={"birth_date": "1980-02-03", "reason": "r"})
        by_postcode = client.post("/api/search", json={"postcode": "sm1 2ab", "reason": "r"})
        both = client.post(
            "/api/search", json={"name": "Robert Smith", "birth_date": "1990-01-01", "reason": "r"}
        )
        nothing = client.post("/api/search", json={"reason": "r"})
    assert refused.status_code == 403 and "reason" in refused.json()["detail"]
    assert [h["person_id"] for h in by_name.json()["hits"]] == [suspect]
    assert by_name.json()["hits"][0]["matched_on"] == ["name"]
    assert suspect in {h["person_id"] for h in by_header.json()["hits"]}
    assert [h["person_id"] for h in by_birth.json()["hits"]] == [suspect]
    assert [h["person_id"] for h in by_postcode.json()["hits"]] == [person_of(world, VICTIM)]
    assert both.json()["hits"] == [] and nothing.status_code == 422


def test_search_keeps_to_scope_and_hides_masked_victims(served: FastAPI, world: World) -> None:
    with TestClient(served) as client:
        login(client, served, "supervisor", NORTHSHIRE)
        elsewhere = client.post("/api/search", json={"name": "Robert Smith", "reason": "r"})
        login(client, served, "analyst", PLANTED_AGENCY)
        masked = client.post("/api/search", json={"postcode": "SM1 2AB", "reason": "r"})
    assert elsewhere.json()["hits"] == [] and masked.json()["hits"] == []


# ---- hostile values and the schema -------------------------------------------------------


def test_hostile_values_come_back_exactly_as_written(served: FastAPI) -> None:
    with TestClient(served) as client:
        login(client, served, "supervisor", PLANTED_AGENCY)
        victim = client.get(f"/api/records/{VICTIM}")
        second = client.get(f"/api/records/{SECOND}").json()
        witness = client.get(f"/api/records/{WITNESS}").json()
        crime = client.get(f"/api/events/{CRIME}").json()
        incident = client.get("/api/events/southmoor:SM/2021/000002").json()
    assert victim.headers["content-type"] == "application/json"

    def raw(answer: dict[str, object], field: str) -> object:
        record = answer["record"] if "record" in answer else answer
        return {f["field"]: f["raw"] for f in record["fields"]}[field]  # type: ignore[index]

    assert raw(victim.json(), "surname") == HOSTILE["victim_surname"]
    assert raw(victim.json(), "forenames") == HOSTILE["victim_forenames"]
    assert raw(second, "surname") == LONG_NAME and len(LONG_NAME) == 5000
    assert raw(second, "forenames") == HOSTILE["second_suspect_forenames"]
    assert raw(witness, "surname") == HOSTILE["witness_surname"]
    assert raw(witness, "forenames") == HOSTILE["witness_forenames"]
    rows = {f["field"]: f["raw"] for f in witness["rows"][0]["fields"]}
    assert rows["aliases"] == HOSTILE["witness_aliases"]
    assert raw(crime, "detail") == HOSTILE["crime_detail"]
    assert raw(incident, "detail") == HOSTILE["incident_detail"]


def test_every_casework_route_declares_a_permission_and_a_schema(
    served: FastAPI,
) -> None:
    app = served
    with TestClient(app) as client:
        login(client, app, "analyst", PLANTED_AGENCY)
        schema = client.get("/api/openapi.json").json()
    casework = [r for r in api_routes(app.routes) if "casework" in (r.route.tags or [])]
    assert len(casework) == 15
    for declared in casework:
        assert isinstance(permission_of(declared.route), Permission), declared.path
        for method in declared.methods:
            operation = schema["paths"][declared.path.replace(":path", "")][method.lower()]
            answers = operation["responses"]
            ok = answers.get("200") or answers.get("201")
            assert ok and ok["content"], declared.path
            assert {"403", "404"} <= set(answers)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (f"/api/items/{CRIME_ITEM}/notes", b'{"text": "a\\u0000b"}'),
        (f"/api/items/{CRIME_ITEM}/notes", b'{"text": "\\ud800"}'),
        ("/api/search", b'{"name": "\\udfffSmith", "reason": "r"}'),
        ("/api/pairs/judgements",
         b'{"first": "a", "second": "b", "verdict": "same", "reason": "\\u0000"}'),
        (f"/api/items/{CRIME_ITEM}/assignment", b'{"assignee_id": 100000000000000000000}'),
    ],
)  # fmt: skip
def test_text_no_database_can_store_is_refused_without_echoing_it(
    served: FastAPI, path: str, body: bytes
) -> None:
    with TestClient(served) as client:
        login(client, served, "supervisor", PLANTED_AGENCY)
        answer = client.post(path, content=body, headers={"content-type": "application/json"})
        reason = client.get(f"/api/items/{CRIME_ITEM}", params={"reason": "a\x00b"})
    assert answer.status_code == reason.status_code == 422
    assert "input" not in answer.text and "Smith" not in answer.text
