"""The audit pages through the test client, on SQLite and PostgreSQL: the trail filtered and
paged (each read itself an entry), its exports linked with the filters in use (CSV
neutralised), its verification intact and after an entry is edited in the database; the
break-glass flags reviewed by a supervisor of the same agency and hidden from one of another;
other roles refused (403), a flag out of scope the same 404 page as one that does not exist;
hostile reasons escaped."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from casebridge.output import FORMULA_STARTS
from casebridge.web.config import ServiceSettings
from casebridge.web.models import FlagReview, TrailEntry
from casebridge.web.trail import as_utc
from tests.web.casework_world import (
    NORTHSHIRE,
    PLANTED_AGENCY,
    World,
    built_world,
    login,
    page_login,
    serving,
    snapshot_rows,
)

SCRIPT = "<script>alert('x')</script>"
FORMULA = '=HYPERLINK("http://example.invalid","open")'


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return built_world(tmp_path_factory.mktemp)


@pytest.fixture
def served(service_settings: ServiceSettings, world: World) -> Iterator[FastAPI]:
    with serving(service_settings, world) as app:
        yield app


def person_of(world: World, agency: str) -> str:
    """A person with a record of ``agency`` only."""
    rows = snapshot_rows(
        world,
        """SELECT l.person_id FROM person_link l
        JOIN person_record r ON r.record_id = l.record_id JOIN source s ON s.source = r.source
        GROUP BY l.person_id HAVING bool_and(s.agency = ?) ORDER BY 1 LIMIT 1""",
        [agency],
    )
    return str(rows[0][0])


def break_glass(app: FastAPI, agency: str, person: str, reason: str) -> tuple[int, int]:
    """A reviewer of ``agency`` reads ``person`` beyond its assignments: (account, entry)."""
    with TestClient(app) as reviewer:
        me = login(reviewer, app, "reviewer", agency)
        answer = reviewer.get(f"/api/persons/{person}", headers={"X-Access-Reason": reason})
        assert answer.status_code == 200, answer.text
    with app.state.sessions() as db:
        seq = db.scalars(
            select(TrailEntry.seq).where(
                TrailEntry.account_id == me.account_id, TrailEntry.flagged.is_(True)
            )
        ).one()
    return me.account_id, seq


def entries(app: FastAPI, action: str) -> list[TrailEntry]:
    with app.state.sessions() as db:
        return list(db.scalars(select(TrailEntry).where(TrailEntry.action == action)))


def test_the_trail_filtered_and_paged_and_each_read_an_entry(served: FastAPI, world: World) -> None:
    person = person_of(world, NORTHSHIRE)
    reader, flagged = break_glass(served, NORTHSHIRE, person, "checking a referral")
    with TestClient(served) as client:
        me, _ = page_login(client, served, "auditor", NORTHSHIRE)
        whole = client.get("/audit/trail")
        assert whole.status_code == 200 and 'href="/audit/trail"' in whole.text
        shown = client.get("/audit/trail", params={"subject_id": person, "flagged": "yes"})
        numbers = re.findall(r'<td class="number">(\d+)</td>', shown.text)
        assert numbers == [str(flagged)] and "checking a referral" in shown.text
        assert "1 entry" in shown.text
        by_account = client.get(
            "/audit/trail", params={"account_id": str(reader), "action": "casework.read_person"}
        )
        assert re.findall(r'<td class="number">(\d+)</td>', by_account.text) == [str(flagged)]
        with served.state.sessions() as db:
            today = db.scalars(select(TrailEntry.at).where(TrailEntry.seq == flagged)).one()
        dated = client.get(
            "/audit/trail",
            params={
                "date_from": f"{as_utc(today):%Y-%m-%d}",
                "date_to": f"{as_utc(today):%Y-%m-%d}",
            },
        )
        before = client.get("/audit/trail", params={"date_to": "2000-01-01"})
        assert str(flagged) in re.findall(r'<td class="number">(\d+)</td>', dated.text)
        assert "0 entries" in before.text
        second = client.get("/audit/trail", params={"page": "2"})
        assert "Page 2 of" in second.text
        wrong = client.get("/audit/trail", params={"account_id": "<b>x</b>", "date_from": "soon"})
        assert wrong.status_code == 422 and "account, from" in wrong.text
        assert "<b>x</b>" not in wrong.text
    reads = [e for e in entries(served, "trail.read") if e.account_id == me]
    assert len(reads) == 7 and f'"{flagged}"' in reads[1].subject_ids


def test_the_exports_are_linked_with_the_filters_and_the_csv_is_neutralised(
    served: FastAPI, world: World
) -> None:
    person = person_of(world, NORTHSHIRE)
    _, flagged = break_glass(served, NORTHSHIRE, person, FORMULA)
    with TestClient(served) as client:
        page_login(client, served, "auditor", NORTHSHIRE)
        page = client.get("/audit/trail", params={"subject_id": person, "flagged": "yes"})
        links = dict(
            (kind, html.unescape(link))
            for link, kind in re.findall(r'href="([^"]+)" id="export-(csv|json)"', page.text)
        )
        csv_link, json_link = links["csv"], links["json"]
        assert csv_link.startswith("/api/trail/export?format=csv&") and "flagged=true" in csv_link
        as_csv = client.get(csv_link)
        as_json = client.get(json_link).json()
    assert [entry["seq"] for entry in as_json] == [flagged]
    assert as_json[0]["reason"] == FORMULA  # JSON: as stored
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [row["seq"] for row in rows] == [str(flagged)]
    assert rows[0]["reason"] == "'" + FORMULA
    assert not [cell for row in rows for cell in row.values() if cell.startswith(FORMULA_STARTS)]


def test_verify_shows_an_intact_trail_and_where_an_edited_one_breaks(served: FastAPI) -> None:
    with TestClient(served) as client:
        me, _ = page_login(client, served, "auditor", NORTHSHIRE)
        intact = client.get("/audit/verify")
        assert intact.status_code == 200 and "The trail verifies" in intact.text
        assert "every hash and link holds" in intact.text
        with served.state.engine.begin() as connection:
            connection.execute(text("UPDATE trail_entry SET action = 'edited' WHERE seq = 1"))
        broken = client.get("/audit/verify")
        assert "The trail failed verification" in broken.text
        assert re.search(
            r"<strong>FAIL</strong></td>\s*<td>edited</td>\s*<td>entry 1</td>", broken.text
        )
    assert len([e for e in entries(served, "trail.verify") if e.account_id == me]) == 2


def test_a_supervisor_reviews_flags_of_their_agency_only(served: FastAPI, world: World) -> None:
    ours = person_of(world, NORTHSHIRE)
    theirs = person_of(world, PLANTED_AGENCY)
    _, flagged = break_glass(served, NORTHSHIRE, ours, SCRIPT)
    _, elsewhere = break_glass(served, PLANTED_AGENCY, theirs, "another force's read")
    with TestClient(served) as client:
        me, token = page_login(client, served, "supervisor", NORTHSHIRE)
        page = client.get("/flags")
        assert page.status_code == 200 and 'href="/flags"' in page.text
        assert f'id="flag-{flagged}"' in page.text and f'id="flag-{elsewhere}"' not in page.text
        assert SCRIPT not in page.text and "&lt;script&gt;alert(" in page.text
        empty = client.post(f"/flags/{flagged}/review", data={"outcome": " ", "csrf_token": token})
        assert empty.status_code == 422 and "Say what you concluded" in empty.text
        done = client.post(
            f"/flags/{flagged}/review",
            data={"outcome": "agreed with the team lead", "csrf_token": token},
            follow_redirects=False,
        )
        assert done.status_code == 303
        shown = client.get(done.headers["location"])
        assert "Your review is recorded." in shown.text
        assert "agreed with the team lead" in shown.text and "by you" in shown.text
        again = client.post(
            f"/flags/{flagged}/review", data={"outcome": "again", "csrf_token": token}
        )
        assert again.status_code == 409 and "reviewed already" in again.text
        unreviewed = client.get("/flags", params={"reviewed": "no"})
        assert f'id="flag-{flagged}"' not in unreviewed.text
        outside = client.post(
            f"/flags/{elsewhere}/review", data={"outcome": "x", "csrf_token": token}
        )
        nowhere = client.post("/flags/999999/review", data={"outcome": "x", "csrf_token": token})
        assert outside.status_code == nowhere.status_code == 404
        assert outside.text == nowhere.text
    with served.state.sessions() as db:
        reviews = list(db.scalars(select(FlagReview)))
    assert [(r.trail_seq, r.account_id) for r in reviews] == [(flagged, me)]
    [review] = [e for e in entries(served, "trail.review_flag") if e.account_id == me]
    assert review.subject_ids == f'["{flagged}"]'
    assert [e for e in entries(served, "trail.read_flags") if e.account_id == me]


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("analyst", "/audit/trail"),
        ("reviewer", "/audit/verify"),
        ("supervisor", "/audit/trail"),
        ("administrator", "/audit/verify"),
        ("auditor", "/flags"),
        ("reviewer", "/flags"),
        ("administrator", "/flags"),
    ],
)
def test_other_roles_are_refused(served: FastAPI, role: str, path: str) -> None:
    with TestClient(served) as client:
        _, token = page_login(client, served, role, NORTHSHIRE)
        refused = client.get(path)
        assert refused.status_code == 403 and "Not allowed" in refused.text
        assert f'href="{path}"' not in client.get("/account").text
        if path == "/flags":
            posted = client.post("/flags/1/review", data={"outcome": "x", "csrf_token": token})
            assert posted.status_code == 403
    with TestClient(served) as anonymous:
        assert anonymous.get(path, follow_redirects=False).status_code == 401
