"""The pages through the test client, on SQLite and PostgreSQL: every page route declares its
permission, sign-in through the forms, the queue's filters and facets, an item worked through
its forms, break glass, scope (the same 404 page for missing and out of scope), masking,
escaping of hostile values, CSRF on every form, the static files and the missing-assets error.
The browser tests (tests/web/e2e/) drive the same pages in chromium."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from casebridge.web.auth.accounts import create_account
from casebridge.web.config import ServiceSettings
from casebridge.web.db import transaction
from casebridge.web.models import ItemStatus, TrailEntry
from casebridge.web.pages.assets import STATIC, AssetsMissingError, load_assets
from casebridge.web.permissions import PUBLIC, Permission, api_routes, permission_of
from tests.web.casework_world import (
    HOSTILE,
    NORTHSHIRE,
    PLANTED_AGENCY,
    World,
    built_world,
    page_login,
    serving,
    snapshot_rows,
    token_of,
)
from tests.web.support import FAST_HASHER, current_code, make_account, use_fast_hasher

CRIME_ITEM = "event:southmoor:SM/2020/000001"
CRIME_EVENT = "southmoor:SM/2020/000001"
VICTIM = "southmoor:SM-P0001"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return built_world(tmp_path_factory.mktemp)


@pytest.fixture
def served(service_settings: ServiceSettings, world: World) -> Iterator[FastAPI]:
    with serving(service_settings, world) as app:
        yield app


def agencies(world: World) -> list[str]:
    return sorted(str(row[0]) for row in snapshot_rows(world, "SELECT agency FROM source"))


def signed_in(client: TestClient, app: FastAPI, role: str, *scopes: str) -> str:
    """Sign in through the API's steps; the forms' token (the client no longer sends one)."""
    return page_login(client, app, role, *scopes)[1]


def test_every_page_route_declares_its_permission(served: FastAPI) -> None:
    pages = {
        (path, method): permission_of(r.route)
        for r in api_routes(served.routes)
        if not r.path.startswith("/api/")
        for path, method in [(r.path, m) for m in r.methods]
    }
    assert pages[("/queue", "GET")] == Permission.READ_CASEWORK
    assert pages[("/items/{item_id:path}/status", "POST")] == Permission.WORK_ITEMS
    assert pages[("/sign-in", "POST")] is PUBLIC
    assert pages[("/static/{name:path}", "GET")] is PUBLIC
    assert all(permission is not None for permission in pages.values())


def test_signing_in_through_the_pages(served: FastAPI, world: World) -> None:
    use_fast_hasher(served)
    with transaction(served.state.sessions) as db:
        one_time = create_account(
            db, FAST_HASHER, username="page-newcomer", role="reviewer", scopes=[NORTHSHIRE]
        ).password
    with TestClient(served) as client:
        # a page asked for without a sign-in answers 401 with the sign-in form itself
        unsigned = client.get("/queue", follow_redirects=False)
        assert unsigned.status_code == 401 and 'action="/sign-in"' in unsigned.text
        assert client.get("/api/queue").json() == {"detail": "sign in first"}  # the API: JSON
        form = client.get("/sign-in")
        typed = {"username": "page-newcomer", "password": "not it at all"}
        wrong = client.post("/sign-in", data={**typed, "csrf_token": token_of(form.text)})
        assert wrong.status_code == 401 and "were not accepted" in wrong.text
        # a form posted without the token its cookie holds (another site's) is refused
        forged = client.post(
            "/sign-in",
            data={"username": "page-newcomer", "password": one_time, "csrf_token": "forged"},
        )
        assert forged.status_code == 403
        form = client.get("/sign-in")
        typed = {"username": "page-newcomer", "password": one_time}
        step = client.post(
            "/sign-in", data={**typed, "csrf_token": token_of(form.text)}, follow_redirects=False
        )
        assert step.headers["location"] == "/sign-in/enrol"
        enrol = client.get("/sign-in/enrol")
        shown = client.post("/sign-in/enrol", data={"csrf_token": token_of(enrol.text)})
        secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', shown.text)
        assert secret and "otpauth://totp/casebridge:page-newcomer" in shown.text
        token = token_of(shown.text)
        step = client.post(
            "/sign-in/code",
            data={"code": pyotp.TOTP(secret.group(1)).now(), "csrf_token": token},
            follow_redirects=False,
        )
        assert step.headers["location"] == "/sign-in/new-password"
        short = client.post(
            "/sign-in/new-password",
            data={"new_password": "short", "repeated": "short", "csrf_token": token},
        )
        assert short.status_code == 422 and "12" in short.text
        chosen = "a password of twenty chars"
        done = client.post(
            "/sign-in/new-password",
            data={"new_password": chosen, "repeated": chosen, "csrf_token": token},
            follow_redirects=False,
        )
        assert done.headers["location"] == "/queue"
        queue = client.get("/queue")
        assert queue.status_code == 200 and "Signed in as" in queue.text
        out = client.post(
            "/sign-out", data={"csrf_token": token_of(queue.text)}, follow_redirects=False
        )
        assert out.headers["location"] == "/sign-in"
        assert client.get("/queue", follow_redirects=False).status_code == 401


def test_a_code_page_for_an_enrolled_account(served: FastAPI) -> None:
    username, password, secret = make_account(served, "auditor", [NORTHSHIRE])
    with TestClient(served) as client:
        form = client.get("/sign-in")
        client.post(
            "/sign-in",
            data={"username": username, "password": password, "csrf_token": token_of(form.text)},
        )
        page = client.get("/sign-in/code")
        # a page asked for half-way through a sign-in points to the next step
        early = client.get("/account")
        assert early.status_code == 401 and 'href="/sign-in/code"' in early.text
        wrong = client.post(
            "/sign-in/code", data={"code": "000000", "csrf_token": token_of(page.text)}
        )
        assert wrong.status_code == 401 and "code was not accepted" in wrong.text
        done = client.post(
            "/sign-in/code",
            data={"code": current_code(secret), "csrf_token": token_of(page.text)},
            follow_redirects=False,
        )
        # an auditor does not read casework: its home is its account page, without the queue
        assert done.headers["location"] == "/account"
        account = client.get("/account")
        assert "Review queue" not in account.text and username in account.text
        assert client.get("/queue").status_code == 403


def test_the_queue_filters_and_facets_as_the_api_does(served: FastAPI, world: World) -> None:
    with TestClient(served) as client:
        signed_in(client, served, "supervisor", *agencies(world))
        api = client.get("/api/queue", params={"rule": "R2", "page_size": 100}).json()
        page = client.get("/queue", params={"rule": "R2", "page_size": "100", "status": ""})
        assert page.status_code == 200
        shown = re.findall(r'class="item-link" href="/items/([^"]+)"', page.text)
        assert shown == [item["item_id"] for item in api["items"]] and shown
        assert f"{api['total']} item" in page.text
        facets = re.findall(
            r'href="/queue\?rule=R2&amp;page_size=100&amp;status=new">New</a> \((\d+)\)', page.text
        )
        assert facets == [str(api["total"])]  # nothing worked yet: every item is new
        paged = client.get("/queue", params={"page_size": "25", "page": "2"})
        assert "Page 2 of" in paged.text
        wrong = client.get("/queue", params={"priority_min": "<b>lots</b>", "date_from": "soon"})
        assert wrong.status_code == 422
        assert "priority min, date from" in wrong.text and "<b>lots" not in wrong.text


def test_an_item_is_worked_through_its_forms(served: FastAPI, world: World) -> None:
    with TestClient(served) as client:
        token = signed_in(client, served, "reviewer", *agencies(world))
        queue = client.get("/queue")
        item = re.findall(r'class="item-link" href="(/items/[^"]+)"', queue.text)[0]
        item_id = item.removeprefix("/items/")
        refused = client.post(item + "/status", data={"status": "referred", "csrf_token": token})
        assert refused.status_code == 403  # a reviewer opens others' items with a reason only
        taken = client.post(
            item + "/assignment",
            data={"to": "me", "back": "queue", "csrf_token": token},
            follow_redirects=False,
        )
        assert taken.headers["location"] == item
        without = client.post(
            item + "/assignment", data={"to": "me"}, headers={}, follow_redirects=False
        )
        assert without.status_code == 403 and "CSRF" in without.text
        closing = client.post(
            item + "/status", data={"status": "no_further_action", "csrf_token": token}
        )
        assert closing.status_code == 422 and "needs a reason" in closing.text
        done = client.post(item + "/status", data={"status": "referred", "csrf_token": token})
        assert done.status_code == 200 and "Referred for investigation" in done.text
        noted = client.post(
            item + "/notes", data={"text": HOSTILE["crime_detail"], "csrf_token": token}
        )
        assert "&lt;img src=x onerror=alert(1)&gt;" in noted.text
        assert "<img src=x" not in noted.text
    with served.state.sessions() as db:
        statuses = list(db.scalars(select(ItemStatus.status).where(ItemStatus.item_id == item_id)))
    assert statuses == ["referred"]


def test_break_glass_asks_for_a_reason_and_flags_the_read(served: FastAPI, world: World) -> None:
    with TestClient(served) as client:
        token = signed_in(client, served, "reviewer", PLANTED_AGENCY)
        path = f"/items/{CRIME_ITEM}"
        asked = client.get(path)
        assert asked.status_code == 403 and 'name="access_reason"' in asked.text
        opened = client.post(
            path, data={"access_reason": "cover for a colleague", "csrf_token": token}
        )
        assert opened.status_code == 200 and "Why it is in the queue" in opened.text
    with served.state.sessions() as db:
        last = db.scalars(select(TrailEntry).order_by(TrailEntry.seq.desc())).first()
    assert last is not None and last.action == "casework.read_item" and last.flagged
    assert last.reason == "cover for a colleague"


def test_outside_scope_is_the_same_not_found_page(served: FastAPI, world: World) -> None:
    with TestClient(served) as client:
        signed_in(client, served, "supervisor", PLANTED_AGENCY)
        in_scope = client.get("/api/queue").json()["items"]
        assert in_scope and all(PLANTED_AGENCY in i["agencies"] for i in in_scope)
        outside = client.get("/items/event:force_a:NOT-IN-SCOPE")
        others = snapshot_rows(world, "SELECT item_id FROM review_item WHERE source = 'force_c'")
        hidden = client.get(f"/items/{others[0][0]}")
        missing = client.get("/items/event:nothing:here")
        assert hidden.status_code == missing.status_code == outside.status_code == 404
        assert hidden.text == missing.text


def test_hostile_values_are_escaped_and_victims_masked_for_analysts(
    served: FastAPI, world: World
) -> None:
    with TestClient(served) as client:
        signed_in(client, served, "supervisor", PLANTED_AGENCY)
        event = client.get(f"/events/{CRIME_EVENT}")
        assert event.status_code == 200
        assert "&lt;img src=x onerror=alert(1)&gt; &#39;; DROP TABLE event;--" in event.text
        assert "<img src=x" not in event.text
        assert event.headers["content-security-policy"].startswith("default-src 'self'")
        record = client.get(f"/records/{VICTIM}")
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in record.text
        assert "=HYPERLINK(&#34;http://example.invalid&#34;" in record.text
        assert "<script>alert" not in record.text
    with TestClient(served) as client:
        signed_in(client, served, "analyst", PLANTED_AGENCY)
        record = client.get(f"/records/{VICTIM}")
        assert record.status_code == 200 and "Masked for your role" in record.text
        assert "alert(" not in record.text and "HYPERLINK" not in record.text


def test_static_files_are_served_from_memory_under_digest_urls(served: FastAPI) -> None:
    with TestClient(served) as client:
        sign_in_page = client.get("/sign-in").text
        css = re.search(r'href="(/static/app\.css\?v=[0-9a-f]+)"', sign_in_page)
        assert css
        answer = client.get(css.group(1))
        assert answer.headers["cache-control"].startswith("public, max-age=31536000")
        assert answer.content == (STATIC / "app.css").read_bytes()
        assert client.get("/static/vendor/htmx.min.js").headers["cache-control"] == "no-cache"
        for wrong in ("/static/../pages/assets.py", "/static/%2e%2e/app.py", "/static/nothing.js"):
            assert client.get(wrong).status_code == 404


def test_the_service_refuses_to_start_without_the_browser_libraries(tmp_path: Path) -> None:
    (tmp_path / "app.css").write_text("body {}", encoding="utf-8")
    with pytest.raises(AssetsMissingError, match="make assets"):
        load_assets(tmp_path)
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    for name in ("htmx.min.js", "cytoscape.min.js"):
        (vendor / name).write_text("/* stand-in */", encoding="utf-8")
    assert sorted(load_assets(tmp_path)) == [
        "app.css",
        "vendor/cytoscape.min.js",
        "vendor/htmx.min.js",
    ]


def test_the_trail_names_ids_only_for_page_reads(served: FastAPI, world: World) -> None:
    with TestClient(served) as client:
        signed_in(client, served, "supervisor", PLANTED_AGENCY)
        client.get(f"/events/{CRIME_EVENT}")
    with served.state.sessions() as db:
        entry = db.scalars(select(TrailEntry).order_by(TrailEntry.seq.desc())).first()
    assert entry is not None and entry.action == "casework.read_event"
    assert json.loads(entry.subject_ids) == [CRIME_EVENT]


def test_a_person_side_by_side_and_a_pair_judged(served: FastAPI, world: World) -> None:
    found = snapshot_rows(
        world,
        "SELECT person_id, count(*) AS n FROM person_link GROUP BY person_id "
        "ORDER BY n DESC, person_id LIMIT 1",
    )
    person_id, records = found[0]
    with TestClient(served) as client:
        token = signed_in(client, served, "supervisor", *agencies(world))
        person = client.get(f"/persons/{person_id}")
        assert person.status_code == 200
        assert person.text.count('<th scope="col"><a href="/records/') == records
        assert "Timeline" in person.text
        pair = re.findall(r'href="/pairs\?([^"]+)"', person.text)[0].replace("&amp;", "&")
        shown = client.get(f"/pairs?{pair}")
        assert shown.status_code == 200 and "<svg" in shown.text and "same person" in shown.text
        first, second = re.findall(r'name="(?:first|second)" value="([^"]+)"', shown.text)
        unjudged = client.post(
            "/pairs/judgements",
            data={"first": first, "second": second, "verdict": "same", "csrf_token": token},
        )
        assert unjudged.status_code == 422 and "give your reason" in unjudged.text
        judged = client.post(
            "/pairs/judgements",
            data={
                "first": first, "second": second, "verdict": "different",
                "reason": "different mothers' names", "csrf_token": token,
            },
        )  # fmt: skip
        assert judged.status_code == 200 and "different mothers&#39; names" in judged.text
        api = client.get("/api/pairs", params={"first": first, "second": second}).json()
        assert [j["verdict"] for j in api["judgements"]] == ["different"]
