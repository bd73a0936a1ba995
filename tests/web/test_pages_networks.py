"""The network, search and statistics pages through the test client, on SQLite and
PostgreSQL: a network's chart data, members, ties, timeline and exports (shown to the roles
that may export); members outside the scope withheld, and a network outside it the same 404 as
one that exists nowhere; search by name with the linker's keys, its reason required (in the
body, never the URL) and its trail entry of ids; the audit report served by role, its
internal version to roles allowed unsuppressed counts only, and nothing inline for the CSP to
refuse."""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from casebridge.audit.report import INTERNAL_MARK
from casebridge.web.models import TrailEntry
from tests.web.casework_world import PLANTED_AGENCY, World, built_world, serving, snapshot_rows
from tests.web.test_pages import signed_in

CHART_DATA = re.compile(
    r'<script type="application/json" id="network-data">(.*?)</script>', re.DOTALL
)
NOWHERE_NETWORK = "N-PN9999999"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return built_world(tmp_path_factory.mktemp)


@pytest.fixture
def served(service_settings: Any, world: World) -> Iterator[FastAPI]:
    with serving(service_settings, world) as app:
        yield app


def straddling_network(world: World) -> tuple[str, str, set[str], set[str]]:
    """(network, agency, members that agency's scope shows, members it does not) for a
    network the agency's scope shows in part, worked out from the snapshot's tables."""
    rows = snapshot_rows(
        world,
        """SELECT DISTINCT m.network_id, m.person_id, s.agency FROM network_member m
        JOIN person_link l ON l.person_id = m.person_id
        JOIN person_record r ON r.record_id = l.record_id
        JOIN source s ON s.source = r.source ORDER BY 1, 2, 3""",
    )
    members: dict[str, set[str]] = defaultdict(set)
    agencies: dict[tuple[str, str], set[str]] = defaultdict(set)
    for network, person, agency in rows:
        members[str(network)].add(str(person))
        agencies[(str(network), str(agency))].add(str(person))
    for (network, agency), shown in sorted(agencies.items()):
        if shown < members[network]:
            return network, agency, shown, members[network] - shown
    raise AssertionError("the world has no network straddling an agency's scope")


def trail_entries(app: FastAPI, after: int) -> list[TrailEntry]:
    with app.state.sessions() as db:
        return list(
            db.scalars(select(TrailEntry).where(TrailEntry.seq > after).order_by(TrailEntry.seq))
        )


def last_seq(app: FastAPI) -> int:
    with app.state.sessions() as db:
        entry = db.scalars(select(TrailEntry).order_by(TrailEntry.seq.desc())).first()
    return -1 if entry is None else entry.seq


# ---- networks ------------------------------------------------------------------------------


def test_a_network_page_draws_its_members_ties_and_timeline(served: FastAPI, world: World) -> None:
    network, agency, shown, hidden = straddling_network(world)
    with TestClient(served) as client:
        signed_in(client, served, "supervisor", agency)
        listed = client.get("/networks")
        assert listed.status_code == 200 and f'href="/networks/{network}"' in listed.text
        before = last_seq(served)
        page = client.get(f"/networks/{network}")
        api = client.get(f"/api/networks/{network}").json()
    assert page.status_code == 200
    chart = json.loads(html.unescape(CHART_DATA.search(page.text).group(1)))  # type: ignore[union-attr]
    nodes = {node["data"]["id"] for node in chart["nodes"]}
    assert nodes == {m["person_id"] for m in api["members"]}
    assert len(chart["edges"]) == len(api["edges"])
    # members outside the scope are withheld: neither the chart nor the tables name them
    assert shown <= nodes and not hidden & nodes
    assert not [person for person in hidden if person in page.text]
    assert "withheld-1" in page.text and "(outside your agencies' scope)" in page.text
    for member in api["members"]:
        assert (f'href="/persons/{member["person_id"]}"' in page.text) == member["visible"]
    # the timeline: every event of the ties the scope shows, oldest first
    events = sorted({e for edge in api["edges"] for e in edge["events"]})
    assert sorted(e["event_id"] for e in api["timeline"]) == events
    dates = [e["event_date"] for e in api["timeline"] if e["event_date"]]
    assert dates == sorted(dates)
    for event in events:
        assert f'href="/events/{event}"' in page.text
    # the exports, for a role that may export; the page read is one trail entry of ids
    assert f"/api/networks/{network}/export?format=graphml" in page.text
    reads = [e for e in trail_entries(served, before) if e.action == "casework.read_network"]
    assert [json.loads(e.subject_ids) for e in reads][0] == [network]


def test_export_links_only_for_roles_that_may_export(served: FastAPI, world: World) -> None:
    network, agency, _, _ = straddling_network(world)
    with TestClient(served) as client:
        token = signed_in(client, served, "reviewer", agency)
        asked = client.get(f"/networks/{network}")
        assert asked.status_code == 403 and 'name="access_reason"' in asked.text
        before = last_seq(served)
        opened = client.post(
            f"/networks/{network}", data={"access_reason": "network check", "csrf_token": token}
        )
        assert opened.status_code == 200 and "Members" in opened.text
        assert "/export?" not in opened.text
    flagged = trail_entries(served, before)[-1]
    assert flagged.action == "casework.read_network" and flagged.flagged
    with TestClient(served) as client:
        signed_in(client, served, "analyst", agency)
        page = client.get(f"/networks/{network}")
        assert page.status_code == 200 and "format=gexf" in page.text and "format=i2" in page.text


def test_a_network_outside_the_scope_is_the_same_not_found_page(
    served: FastAPI, world: World
) -> None:
    planted = snapshot_rows(
        world,
        """SELECT DISTINCT m.network_id FROM network_member m
        JOIN person_link l ON l.person_id = m.person_id
        JOIN person_record r ON r.record_id = l.record_id WHERE r.source <> 'southmoor'
        ORDER BY 1""",
    )
    with TestClient(served) as client:
        signed_in(client, served, "supervisor", PLANTED_AGENCY)
        mine = client.get("/networks")
        shown = set(re.findall(r'href="/networks/([^"]+)"', mine.text))
        outside = next(str(n) for (n,) in planted if str(n) not in shown)
        hidden = client.get(f"/networks/{outside}")
        missing = client.get(f"/networks/{NOWHERE_NETWORK}")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text == missing.text
    assert outside not in mine.text


# ---- search --------------------------------------------------------------------------------


def test_search_needs_a_reason_and_finds_spelling_variants_in_scope(
    served: FastAPI, world: World
) -> None:
    planted = snapshot_rows(
        world,
        """SELECT l.person_id FROM person_record r JOIN person_link l ON l.record_id = r.record_id
        WHERE r.source = 'southmoor' AND upper(r.surname) = 'SMYTH'""",
    )
    suspect = str(planted[0][0])
    with TestClient(served) as client:
        token = signed_in(client, served, "supervisor", PLANTED_AGENCY)
        form = client.get("/search")
        assert form.status_code == 200 and 'method="post" action="/search"' in form.text
        before = last_seq(served)
        unreasoned = client.post("/search", data={"name": "Robert Smith", "csrf_token": token})
        assert unreasoned.status_code == 422 and "Every search needs a reason" in unreasoned.text
        assert trail_entries(served, before) == []
        empty = client.post("/search", data={"reason": "referral 118", "csrf_token": token})
        assert empty.status_code == 422 and "Give a name" in empty.text
        bad_date = client.post(
            "/search",
            data={"birth_date": "31/01/2001", "reason": "referral 118", "csrf_token": token},
        )
        assert bad_date.status_code == 422 and "The birth date cannot be searched for" in (
            bad_date.text
        )
        found = client.post(
            "/search",
            data={"name": "Robert Smith", "reason": "referral 118", "csrf_token": token},
        )
        assert found.status_code == 200
        assert f'href="/persons/{suspect}"' in found.text
        assert str(found.url).endswith("/search")  # the terms never in the address
    entries = trail_entries(served, before)
    assert [e.action for e in entries] == ["casework.search"]
    assert suspect in json.loads(entries[0].subject_ids)
    assert entries[0].reason == "referral 118"
    stored = " ".join(str(v) for v in vars(entries[0]).values())
    assert "Robert" not in stored and "Smith" not in stored


def test_search_finds_nobody_outside_the_scope(served: FastAPI, world: World) -> None:
    others = sorted(
        str(a)
        for (a,) in snapshot_rows(world, "SELECT DISTINCT agency FROM source")
        if a != PLANTED_AGENCY
    )
    with TestClient(served) as client:
        token = signed_in(client, served, "supervisor", *others)
        found = client.post(
            "/search",
            data={"name": "Robert Smith", "reason": "referral 118", "csrf_token": token},
        )
    assert found.status_code == 200
    assert "Smyth" not in found.text and "0 people found" in found.text


# ---- statistics ----------------------------------------------------------------------------


def test_the_published_report_for_everyone_the_internal_one_by_role(
    served: FastAPI, world: World
) -> None:
    with TestClient(served) as client:
        signed_in(client, served, "auditor", PLANTED_AGENCY)
        page = client.get("/statistics")
        assert page.status_code == 200 and 'href="/statistics/report"' in page.text
        assert "/statistics/internal-report" not in page.text
        report = client.get("/statistics/report")
        assert report.status_code == 200 and "casebridge audit report" in report.text
        assert INTERNAL_MARK not in report.text
        # nothing inline for the CSP to refuse: the stylesheet and script are static files
        assert "<style" not in report.text and "style=" not in report.text
        assert re.findall(r"<script[^>]*>", report.text) == [
            f'<script src="{m}">' for m in re.findall(r'<script src="([^"]+)">', report.text)
        ]
        css = re.search(r'<link rel="stylesheet" href="([^"]+)">', report.text)
        assert css and client.get(html.unescape(css.group(1))).status_code == 200
        assert client.get("/statistics/internal-report").status_code == 403
    with TestClient(served) as client:
        signed_in(client, served, "administrator")
        assert client.get("/statistics").status_code == 403
    with TestClient(served) as client:
        signed_in(client, served, "supervisor", PLANTED_AGENCY)
        assert "/statistics/internal-report" in client.get("/statistics").text
        before = last_seq(served)
        internal = client.get("/statistics/internal-report")
        assert internal.status_code == 200 and INTERNAL_MARK in internal.text
    entries = trail_entries(served, before)
    assert [(e.action, json.loads(e.subject_ids)) for e in entries] == [
        ("statistics.read_internal_report", [])
    ]
