"""Issue 16's story, end to end in a real browser (Debian's chromium, driven by Playwright).

A reviewer of one force (Eastmoor Constabulary) signs in with a real TOTP code, takes an item
from the queue and refers it, opens the person it is about, judges a pair of their records,
opens a network they are in, and files a duty report (the child lives in an Eastmoor postcode
district, so it goes to Eastmoor). The pipeline then runs on the workspace, and the service
switches to the new snapshot: the reviewer finds the report's person of concern with the
search page and opens them. An auditor sees each of those actions in the trail, ids only. A
supervisor of another force (Southmoor Police) sees none of it: each thing answers the very
page an id that exists nowhere gets (404), and none is in its queue, networks, duty reports
or search results. Every page of every account asks for nothing but the service's own origin.

One test, one service and one browser. The workspace is a copy of the casework tests' small
world (built once per session; the run on the copy is the slow part), and the service's
database is where ``casebridge serve`` keeps it by default, the workspace's
``service.sqlite``, so the pipeline reads the duty report as it would in production.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from casebridge.ingest.duty_reports import source_key
from casebridge.web.models import Account
from tests.web.casework_world import (
    PLANTED_AGENCY,
    World,
    built_world,
    copy_world,
    run_stages,
    snapshot_rows,
)
from tests.web.e2e.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    Server,
    Watch,
    require_browser,
    screenshot,
    served_world,
    watch,
)
from tests.web.e2e.test_review import assert_clean, file_duty_report, sign_in
from tests.web.support import current_code, make_account

sync_api = require_browser()
# the reviewer's force, and a postcode in the district the world's routing table gives it
# (tests/web/casework_world.py, DUTY_DISTRICTS)
FORCE = "Eastmoor Constabulary"
FORCE_POSTCODE = "EM1 7QD"
# another force, with a network and an item of its own in the world (the planted source)
OTHER_FORCE = PLANTED_AGENCY
# the names file_duty_report types (tests/web/e2e/test_review.py)
CONCERN = "Gareth Brackenridge"
TYPED_NAMES = ("Brackenridge", "Quillfeather", "Whitlow")
STATUS_WORDS = (("in_review", "In review"), ("referred", "Referred for investigation"))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """A copy of the session's casework world, which the story's pipeline run changes."""
    shared = built_world(tmp_path_factory.mktemp)
    return copy_world(shared, tmp_path_factory.mktemp("story") / "workspace")


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[Server]:
    # the service's database where `casebridge serve` keeps it, so ingest finds its reports
    with served_world(world, world.root) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def chosen_item(world: World) -> tuple[str, str, str]:
    """An item about a person (with two records or more, in a network) that the force sees and
    the other force sees none of: the item's, the person's and the network's ids."""
    found = snapshot_rows(
        world,
        """SELECT i.item_id, i.person_id, min(m.network_id) FROM review_item i
        JOIN network_member m ON m.person_id = i.person_id
        WHERE (SELECT count(*) FROM person_link l WHERE l.person_id = i.person_id) >= 2
          AND i.item_id IN (SELECT item_id FROM cb_scope_item si
                            JOIN source s ON s.source = si.source WHERE s.agency = ?)
          AND NOT EXISTS (SELECT 1 FROM cb_scope_item si JOIN source s ON s.source = si.source
                          WHERE si.item_id = i.item_id AND s.agency = ?)
          AND NOT EXISTS (SELECT 1 FROM cb_scope_network sn JOIN source s ON s.source = sn.source
                          WHERE sn.network_id = m.network_id AND s.agency = ?)
        GROUP BY i.item_id, i.person_id ORDER BY i.item_id LIMIT 1""",
        [FORCE, OTHER_FORCE, OTHER_FORCE],
    )
    assert found, "the world has no item for the story: a person in a network, of one force"
    item_id, person_id, network_id = (str(value) for value in found[0])
    return item_id, person_id, network_id


def new_context(browser: Any, server: Server) -> tuple[Any, Any, Watch]:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    seen = watch(context, server.url)
    return context, context.new_page(), seen


def open_page(page: Any, server: Server, path: str, status: int = 200) -> None:
    answer = page.goto(server.url + path)
    assert answer is not None and answer.status == status, f"{path}: {answer and answer.status}"


def work_item(page: Any, server: Server, item_id: str) -> None:
    """Take the item from the queue, then set it in review, then referred."""
    page.goto(server.url + "/queue")
    screenshot(page, "queue")
    href = quote(f"/items/{item_id}", safe="/:")
    page.locator(f"tr:has(a.item-link[href='{href}']) button.take").click()
    page.wait_for_url(f"**{href}")
    assert page.inner_text("#current-assignee") == "you"
    for value, words in STATUS_WORDS:
        page.select_option("#status", value)
        page.click("#set-status")
        page.wait_for_function(
            "words => document.getElementById('current-status').textContent === words", arg=words
        )
    assert "status set to Referred for investigation by you" in page.inner_text(".history")
    screenshot(page, "item")


def judge_pair_and_open_network(page: Any, server: Server, person_id: str, network: str) -> None:
    """From the item to its person; a pair of their records judged the same person; the
    person's network, its chart drawn."""
    page.click(f"a[href='/persons/{person_id}']")
    page.wait_for_url(f"**/persons/{person_id}")
    screenshot(page, "person")
    page.click("a[href^='/pairs?']")
    page.wait_for_url("**/pairs?**")
    assert page.locator("figure.waterfall svg").count() == 1
    screenshot(page, "pair")
    page.check("#verdict-same")
    page.fill("#judgement-reason", "same birth date and school; one surname misspelt")
    page.click("#judge")
    page.wait_for_url("**/pairs?**#judgements")
    assert "The same person" in page.inner_text("#judgements")
    open_page(page, server, f"/persons/{person_id}")
    page.click(f"a[href='/networks/{network}']")
    page.wait_for_selector("#network-chart[data-drawn]")
    assert page.locator("#network-chart canvas").count() > 0, "the link chart did not draw"
    screenshot(page, "network")
    open_page(page, server, "/networks")
    assert page.locator(f"a[href='/networks/{network}']").count() == 1
    screenshot(page, "networks")


def search(page: Any, server: Server, name: str, shoot: bool = False) -> list[str]:
    """Search by ``name`` with a reason; the persons found."""
    open_page(page, server, "/search")
    if shoot:
        screenshot(page, "search")
    page.fill("#search-name", name)
    page.fill("#search-reason", "a duty report names them")
    page.get_by_role("button", name="Search").click()
    page.wait_for_selector("#results-heading")
    assert page.url == server.url + "/search"  # the terms went in the body
    if shoot:
        screenshot(page, "search-results")
    found: list[str] = page.eval_on_selector_all(
        "a[href^='/persons/']", "links => links.map(a => a.getAttribute('href').slice(9))"
    )
    return found


def concern_records(world: World, reference: str) -> tuple[str, list[str]]:
    """The person the report's person of concern became, and the report's records."""
    rows = snapshot_rows(
        world,
        "SELECT r.record_id, l.person_id FROM person_record r "
        "JOIN person_link l ON l.record_id = r.record_id WHERE r.source = ? ORDER BY r.record_id",
        [source_key(FORCE)],
    )
    records = [str(row[0]) for row in rows if reference in str(row[0])]
    concern = [str(row[1]) for row in rows if str(row[0]).endswith(f"{reference}-p1")]
    assert len(records) == 2 and len(concern) == 1, "the report's records are not in the run"
    return concern[0], records


def not_found_page(page: Any, server: Server, path: str) -> str:
    """The page ``path`` answers, which must be a 404."""
    open_page(page, server, path, status=404)
    text: str = page.inner_text("main")
    return text


def trail_rows(page: Any) -> list[list[str]]:
    rows: list[list[str]] = page.eval_on_selector_all(
        "table.trail tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))",
    )
    return rows


def test_a_reviewers_day_is_in_the_trail_and_invisible_to_another_force(
    browser: Any, server: Server, world: World
) -> None:
    item_id, person_id, network_id = chosen_item(world)
    watches: list[Watch] = []

    # the reviewer: password, then a real TOTP code
    username, password, secret = make_account(server.app, "reviewer", [FORCE])
    context, page, seen = new_context(browser, server)
    watches.append(seen)
    page.goto(server.url + "/")
    page.wait_for_url("**/sign-in")
    screenshot(page, "sign-in")
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/sign-in/code")
    screenshot(page, "sign-in-code")
    page.fill("#code", current_code(secret))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/queue")

    work_item(page, server, item_id)
    judge_pair_and_open_network(page, server, person_id, network_id)
    open_page(page, server, "/duty-reports/new")
    screenshot(page, "duty-report-form")
    reference = file_duty_report(page, server, postcode=FORCE_POSTCODE)
    screenshot(page, "duty-reports")
    open_page(page, server, f"/duty-reports/{reference}")
    assert FORCE in page.inner_text("main")
    screenshot(page, "duty-report-receipt")

    # the next run takes the report in; the service reads the new snapshot at its next request
    run_stages(world.workspace)
    concern, records = concern_records(world, reference)
    assert search(page, server, CONCERN, shoot=True) == [concern]
    page.click(f"a[href='/persons/{concern}']")
    page.wait_for_url(f"**/persons/{concern}")
    # beyond the reviewer's assignments: a reason first (break glass), then the person
    assert page.get_by_label("Why you need to open it").is_visible()
    screenshot(page, "reason")
    page.fill("#access_reason", "the person of concern in my duty report")
    page.get_by_role("button", name="Open with this reason").click()
    page.wait_for_selector("h1")
    assert "Brackenridge" in page.inner_text("main") and reference in page.inner_text("main")
    context.close()
    # the judgement held: the item, the person and their network are still there, so the
    # other force's 404s below are about things that exist
    assert snapshot_rows(
        world,
        "SELECT (SELECT count(*) FROM review_item WHERE item_id = ?), "
        "(SELECT count(*) FROM person_link WHERE person_id = ?) >= 2, "
        "(SELECT count(*) FROM network_member WHERE network_id = ? AND person_id = ?)",
        [item_id, person_id, network_id, person_id],
    ) == [(1, True, 1)]

    # the auditor: each action of the reviewer's in the trail, by id only
    with server.app.state.sessions() as db:
        account_id = db.scalars(select(Account.id).where(Account.username == username)).one()
    name, password, secret = make_account(server.app, "auditor", [FORCE, OTHER_FORCE])
    context, page, seen = new_context(browser, server)
    watches.append(seen)
    sign_in(page, server, name, password, secret, home="account")
    open_page(page, server, f"/audit/trail?account_id={account_id}")
    screenshot(page, "audit-trail")
    rows = trail_rows(page)
    assert rows and {row[2] for row in rows} == {str(account_id)}
    done = {(row[3], row[4]) for row in rows}
    judged = next(row[4] for row in rows if row[3] == "casework.judge_pair")
    expected = [
        ("casework.assign_item", item_id), ("casework.set_item_status", item_id),
        ("casework.read_person", person_id), ("casework.judge_pair", judged),
        ("casework.read_network", network_id), ("duty.file_report", reference),
        ("casework.read_person", concern),
    ]  # fmt: skip
    for action, subject in expected:
        assert any(a == action and subject in s for a, s in done), (action, subject)
    statuses = [row for row in rows if row[3] == "casework.set_item_status"]
    assert len(statuses) == len(STATUS_WORDS)
    assert re.fullmatch(r"records? [^ ]+, [^ ]+", judged)
    trail_text = page.inner_text("main")
    for typed in TYPED_NAMES:
        assert typed not in trail_text, "a name reached the trail"
    context.close()

    # another force's supervisor: none of it exists
    name, password, secret = make_account(server.app, "supervisor", [OTHER_FORCE])
    context, page, seen = new_context(browser, server)
    watches.append(seen)
    sign_in(page, server, name, password, secret)
    own_items = page.locator("a.item-link").count()
    queue_text = page.content()
    assert own_items > 0, "the other force's queue is empty: the check below proves nothing"
    assert quote(item_id, safe="/:") not in queue_text and person_id not in queue_text
    for kind, thing in (
        ("items", item_id), ("persons", person_id), ("networks", network_id),
        ("duty-reports", reference), ("persons", concern),
        *(("records", record) for record in records),
    ):  # fmt: skip
        nowhere = not_found_page(page, server, f"/{kind}/{'nowhere-' + kind}")
        found = not_found_page(page, server, f"/{kind}/{quote(thing, safe='/:')}")
        assert found == nowhere, f"{kind} answers another page than one that does not exist"
    screenshot(page, "not-found")
    open_page(page, server, "/networks")
    assert page.locator("a[href^='/networks/']").count() > 0
    assert network_id not in page.content()
    open_page(page, server, "/duty-reports")
    assert reference not in page.content()
    assert search(page, server, CONCERN) == []
    context.close()

    for each in watches:
        assert_clean(each)
