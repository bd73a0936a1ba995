"""The review workspace in a real browser (Debian's chromium, driven by Playwright): a reviewer's
first sign-in and an item worked from the queue to "referred", the pages' requests (their own
origin only, nothing the CSP refuses), axe-core on every page, and the queue worked by keyboard
alone. One browser and one service for the module; each test has its own browser context."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from casebridge.web.auth.accounts import create_account
from casebridge.web.db import transaction
from casebridge.web.models import ItemStatus, TrailEntry
from casebridge.web.services import operational
from tests.web.casework_world import World, built_world, snapshot_rows
from tests.web.e2e.harness import (
    AXE,
    CHROMIUM,
    CHROMIUM_ARGS,
    Server,
    Watch,
    require_browser,
    served_world,
    watch,
)
from tests.web.support import FAST_HASHER, current_code, make_account

sync_api = require_browser()
NEW_PASSWORD = "a long new password of my own"
# axe-core's impacts that fail a page (WCAG 2 A and AA rules, and best practices)
FAILING_IMPACTS = ("serious", "critical")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return built_world(tmp_path_factory.mktemp)


@pytest.fixture(scope="module")
def server(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with served_world(world, tmp_path_factory.mktemp("pages-e2e")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def agencies(world: World) -> list[str]:
    return sorted(str(row[0]) for row in snapshot_rows(world, "SELECT agency FROM source"))


@pytest.fixture(scope="module")
def person_path(world: World) -> str:
    """The person with the most records (so their page offers pairs to compare)."""
    found = snapshot_rows(
        world,
        "SELECT person_id FROM person_link GROUP BY person_id ORDER BY count(*) DESC, person_id "
        "LIMIT 1",
    )
    return f"/persons/{found[0][0]}"


def new_context(browser: Any, server: Server, **options: Any) -> tuple[Any, Watch]:
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    return context, watch(context, server.url)


def sign_in(page: Any, server: Server, username: str, password: str, secret: str) -> None:
    """Through the sign-in pages, with a real TOTP code."""
    page.goto(server.url + "/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/sign-in/code")
    page.fill("#code", current_code(secret))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/queue")


def check_accessibility(page: Any, failures: list[str]) -> None:
    """Run axe-core on the page; note every serious or critical violation."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    for violation in found:
        if violation["impact"] in FAILING_IMPACTS:
            targets = [node["target"] for node in violation["nodes"]][:3]
            failures.append(
                f"{page.url}: {violation['id']} ({violation['impact']}): {violation['help']} "
                f"at {json.dumps(targets)}"
            )


def tab_to(page: Any, selector: str, limit: int = 150) -> None:
    """Press Tab until the focus is on ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def assert_clean(seen: Watch) -> None:
    assert seen.requests, "no request was seen: the watch is not working"
    assert seen.foreign() == [], f"pages asked for other origins: {seen.foreign()}"
    assert seen.refusals == [], f"the CSP refused something: {seen.refusals}"


def test_a_reviewer_signs_in_for_the_first_time_and_refers_an_item(
    browser: Any, server: Server, agencies: list[str]
) -> None:
    with transaction(server.app.state.sessions) as db:
        made = create_account(
            db, FAST_HASHER, username="first-reviewer", role="reviewer", scopes=agencies
        )
        one_time = made.password
    context, seen = new_context(browser, server)
    page = context.new_page()
    page.goto(server.url + "/")
    page.wait_for_url("**/sign-in")
    page.fill("#username", "first-reviewer")
    page.fill("#password", one_time)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/sign-in/enrol")
    page.get_by_role("button", name="Show me a new secret").click()
    secret = page.inner_text("#totp-secret").strip()
    assert page.inner_text("#otpauth-uri").startswith("otpauth://totp/casebridge:first-reviewer")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/sign-in/new-password")
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#repeated", NEW_PASSWORD)
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url("**/queue")
    assert "Signed in as" in page.inner_text("header")

    first_take = page.locator("button.take").first
    first_take.click()
    page.wait_for_url("**/items/**")
    item_id = page.url.split("/items/", 1)[1]
    assert page.inner_text("#current-assignee") == "you"
    for value, words in (("in_review", "In review"), ("referred", "Referred for investigation")):
        page.select_option("#status", value)
        page.click("#set-status")
        page.wait_for_function(
            "words => document.getElementById('current-status').textContent === words", arg=words
        )
    assert "status set to Referred for investigation by you" in page.inner_text(".history")
    context.close()

    with server.app.state.sessions() as db:
        assert operational.status_of(db, item_id) == "referred"
        changes = db.scalars(select(ItemStatus.status).where(ItemStatus.item_id == item_id))
        assert list(changes) == ["in_review", "referred"]
        actions = [
            entry.action
            for entry in db.scalars(select(TrailEntry).order_by(TrailEntry.seq))
            if entry.subject_ids and item_id in json.loads(entry.subject_ids)
        ]
    assert actions.count("casework.set_item_status") == 2
    assert "casework.assign_item" in actions
    assert_clean(seen)


def test_pages_ask_only_their_own_origin_and_the_csp_refuses_nothing(
    browser: Any, server: Server, agencies: list[str], person_path: str
) -> None:
    username, password, secret = make_account(server.app, "supervisor", agencies)
    context, seen = new_context(browser, server)
    page = context.new_page()
    sign_in(page, server, username, password, secret)
    assert page.evaluate("typeof window.htmx") == "object", "htmx did not run under the CSP"
    item_link = page.locator("a.item-link").first.get_attribute("href")
    page.goto(server.url + item_link)
    record_link = page.locator("a[href^='/records/']").first.get_attribute("href")
    event_link = page.locator("a[href^='/events/']").first.get_attribute("href")
    for path in (record_link, event_link, "/account", "/queue?status=new&rule=R2", "/nowhere"):
        page.goto(server.url + path)
    page.goto(server.url + person_path)
    page.goto(server.url + page.locator("a[href^='/pairs?']").first.get_attribute("href"))
    assert page.locator("figure.waterfall svg").count() == 1
    context.close()
    assert any("/static/vendor/htmx.min.js" in url for url in seen.requests)
    assert_clean(seen)


def test_every_page_passes_axe_core(
    browser: Any, server: Server, agencies: list[str], person_path: str
) -> None:
    # axe-core is injected as an inline script, which the CSP would refuse: this context alone
    # bypasses it (the other tests keep it, and check that it refuses nothing)
    context, _seen = new_context(browser, server, bypass_csp=True)
    page = context.new_page()
    failures: list[str] = []
    with transaction(server.app.state.sessions) as db:
        made = create_account(
            db, FAST_HASHER, username="axe-supervisor", role="supervisor", scopes=agencies
        )
    page.goto(server.url + "/sign-in")
    check_accessibility(page, failures)
    page.fill("#username", "axe-supervisor")
    page.fill("#password", made.password)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/sign-in/enrol")
    check_accessibility(page, failures)
    page.get_by_role("button", name="Show me a new secret").click()
    check_accessibility(page, failures)
    page.fill("#code", pyotp.TOTP(page.inner_text("#totp-secret").strip()).now())
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/sign-in/new-password")
    check_accessibility(page, failures)
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#repeated", NEW_PASSWORD)
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url("**/queue")
    check_accessibility(page, failures)
    page.goto(server.url + page.locator("a.item-link").first.get_attribute("href"))
    check_accessibility(page, failures)
    links = [
        page.locator("a[href^='/records/']").first.get_attribute("href"),
        page.locator("a[href^='/events/']").first.get_attribute("href"),
        "/account",
        "/nowhere",
        person_path,
    ]
    for path in links:
        page.goto(server.url + path)
        check_accessibility(page, failures)
    page.goto(server.url + page.locator("a[href^='/pairs?']").first.get_attribute("href"))
    check_accessibility(page, failures)
    page.goto(server.url + "/sign-in")  # signed in: it sends the browser home
    context.close()

    # the code page and the reason page, as a reviewer bound to its assignments
    username, password, secret = make_account(server.app, "reviewer", agencies)
    context, _seen = new_context(browser, server, bypass_csp=True)
    page = context.new_page()
    page.goto(server.url + "/sign-in")
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/sign-in/code")
    check_accessibility(page, failures)
    page.fill("#code", current_code(secret))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/queue")
    unassigned = page.locator("tr:has(button.take) a.item-link").first.get_attribute("href")
    answer = page.goto(server.url + unassigned)
    assert answer is not None and answer.status == 403
    assert page.get_by_label("Why you need to open it").is_visible()
    check_accessibility(page, failures)
    context.close()
    assert failures == []


def test_the_queue_works_by_keyboard_alone(
    browser: Any, server: Server, agencies: list[str]
) -> None:
    username, password, secret = make_account(server.app, "reviewer", agencies)
    context, seen = new_context(browser, server)
    page = context.new_page()
    sign_in(page, server, username, password, secret)
    page.goto(server.url + "/queue")

    tab_to(page, "button.take")
    page.keyboard.press("Enter")
    page.wait_for_url("**/items/**")
    item_id = page.url.split("/items/", 1)[1]
    tab_to(page, "#status")
    # a closed select takes arrow keys: New -> In review -> Referred
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.eval_on_selector("#status", "select => select.value") == "referred"
    tab_to(page, "#set-status")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('current-status').textContent.startsWith('Referred')"
    )
    # the focus stays on the button in the replaced part, visibly: an outline is drawn
    assert page.evaluate("() => document.activeElement.id") == "set-status"
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
    context.close()
    with server.app.state.sessions() as db:
        assert operational.status_of(db, item_id) == "referred"
    assert_clean(seen)


def test_a_pair_is_judged_by_keyboard_alone(
    browser: Any, server: Server, agencies: list[str], person_path: str
) -> None:
    username, password, secret = make_account(server.app, "supervisor", agencies)
    context, seen = new_context(browser, server)
    page = context.new_page()
    sign_in(page, server, username, password, secret)
    page.goto(server.url + person_path)
    tab_to(page, "a[href^='/pairs?']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/pairs?**")
    tab_to(page, "#verdict-same")
    page.keyboard.press("Space")
    tab_to(page, "#judgement-reason")
    page.keyboard.type("same school and birth date; the surname was misspelt")
    tab_to(page, "#judge")
    page.keyboard.press("Enter")
    page.wait_for_url("**/pairs?**#judgements")
    assert "The same person" in page.inner_text("#judgements")
    context.close()
    assert_clean(seen)
