"""The duty-to-report intake: the API and the form file a report, give a receipt reference,
route it to a force by the child's postcode district (or keep it unrouted for a supervisor),
show it only to its filer and its force, and trail every filing and read by reference only.

The reports are written here by hand from the duty as the Crime and Policing Bill (2025) words
it (a professional told of, or seeing, a child sex offence reports it, naming the people
believed involved; up to 7 days' delay where reporting at once would put the child at risk),
with invented people; postcodes follow Royal Mail's published format (outward code: area
letters, district digits; inward code: sector digit and two unit letters).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from casebridge.web.config import ServiceSettings
from casebridge.web.models import DutyReport, TrailEntry
from tests.web.casework_world import (
    HOSTILE,
    NORTHSHIRE,
    SignedIn,
    World,
    built_world,
    login,
    serving,
)

WESTVALE = "Westvale Police"
REFERENCE = re.compile(r"^DR-[0-9]{4}-[0-9A-HJKMNP-TV-Z]{8}$")
TODAY = dt.date.today()
CHILD_SURNAME = "Quillfeather"
CONCERN_SURNAME = "Brackenridge"


def report(postcode: str = "NS1 4QT", **changes: Any) -> dict[str, Any]:
    """A report of a disclosure to a teacher yesterday, about a 13-year-old in district NS1."""
    body: dict[str, Any] = {
        "reporter": {"name": "Ada Whitlow", "role": "teacher", "organisation": "Fenby Academy",
                     "setting": "education", "email": "a.whitlow@fenby.example"},
        "child": {"forenames": "Lily", "surname": CHILD_SURNAME, "age": 13, "sex": "female",
                  "postcode": postcode},
        "persons_of_concern": [
            {"forenames": "Gareth", "surname": CONCERN_SURNAME, "age": 41, "sex": "male",
             "relationship": "mother's partner"},
        ],
        "how": "told",
        "disclosure": "Lily told me at break that her mother's partner touches her at night.",
        "disclosed_on": (TODAY - dt.timedelta(days=1)).isoformat(),
    }  # fmt: skip
    body.update(changes)
    return body


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return built_world(tmp_path_factory.mktemp)


@pytest.fixture
def app(service_settings: ServiceSettings, world: World) -> Iterator[FastAPI]:
    with serving(service_settings, world) as served:
        yield served


def member(app: FastAPI, role: str, *scopes: str) -> tuple[TestClient, SignedIn]:
    client = TestClient(app)
    return client, login(client, app, role, *scopes)


def trail_of(app: FastAPI, action: str) -> list[TrailEntry]:
    with app.state.sessions() as session:
        return list(session.scalars(select(TrailEntry).where(TrailEntry.action == action)))


def test_a_report_filed_through_the_api_is_routed_by_district_and_trailed(app: FastAPI) -> None:
    teacher, filer = member(app, "reviewer", WESTVALE)
    answer = teacher.post("/api/duty-reports", json=report())
    assert answer.status_code == 201, answer.text
    receipt = answer.json()
    assert REFERENCE.match(receipt["reference"])
    assert receipt["force"] == NORTHSHIRE and receipt["routed"]
    assert receipt["postcode_district"] == "NS1" and receipt["delay_days"] == 1
    reference = receipt["reference"]
    # the filer reads it back though Northshire is outside their scope
    mine = teacher.get(f"/api/duty-reports/{reference}")
    assert mine.status_code == 200 and mine.json()["report"]["child"]["surname"] == CHILD_SURNAME
    # Northshire's reviewer sees it; Westvale's (not the filer) does not, as if it never was
    northshire, _ = member(app, "reviewer", NORTHSHIRE)
    assert northshire.get(f"/api/duty-reports/{reference}").status_code == 200
    westvale, _ = member(app, "supervisor", WESTVALE)
    hidden = westvale.get(f"/api/duty-reports/{reference}")
    nowhere = westvale.get("/api/duty-reports/DR-2000-00000000")
    assert (hidden.status_code, hidden.content) == (404, nowhere.content)
    assert reference not in westvale.get("/api/duty-reports").text
    assert reference in northshire.get("/api/duty-reports").text
    # the trail names the report by its reference, never a name
    filed = trail_of(app, "duty.file_report")
    assert [(e.account_id, json.loads(e.subject_ids)) for e in filed] == [
        (filer.account_id, [reference])
    ]
    entries = trail_of(app, "duty.read_report") + trail_of(app, "duty.read_reports")
    assert len(entries) >= 3
    for entry in filed + entries:
        assert entry.subject_kind == "duty_report"
        assert CHILD_SURNAME not in entry.subject_ids + (entry.reason or "")


def test_a_report_no_force_can_be_found_for_is_kept_unrouted_for_supervisors(
    app: FastAPI,
) -> None:
    teacher, _ = member(app, "analyst", NORTHSHIRE)
    for postcode in ("ZZ9 9ZZ", None):
        body = report(postcode=postcode) if postcode else report()
        if postcode is None:
            body["child"].pop("postcode")
        answer = teacher.post("/api/duty-reports", json=body)
        assert answer.status_code == 201, answer.text
        receipt = answer.json()
        assert receipt["force"] is None and not receipt["routed"]
        reference = receipt["reference"]
        supervisor, _ = member(app, "supervisor", WESTVALE)
        listed = supervisor.get("/api/duty-reports").json()
        assert {"reference": reference, "routed": False} in [
            {"reference": r["reference"], "routed": r["routed"]} for r in listed
        ]
        assert supervisor.get(f"/api/duty-reports/{reference}").status_code == 200
        reviewer, _ = member(app, "reviewer", NORTHSHIRE)
        assert reviewer.get(f"/api/duty-reports/{reference}").status_code == 404
    with app.state.sessions() as session:
        kept = session.scalars(select(DutyReport).where(DutyReport.force.is_(None))).all()
    assert len(kept) == 2


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"child": {"forenames": "Lily", "sex": "female"}}, ["child", "age"]),
        ({"child": {"age": 13}}, ["child", "surname"]),
        ({"child": {"surname": "Q", "age": 18}}, ["child", "age"]),
        ({"child": {"surname": "Q", "age": 9, "postcode": "no postcode"}}, ["child", "postcode"]),
        ({"disclosed_on": (TODAY + dt.timedelta(days=2)).isoformat()}, ["disclosed_on"]),
        ({"disclosed_on": (TODAY - dt.timedelta(days=5)).isoformat()}, ["delay_reason"]),
        ({"reporter": {"name": "A", "role": "nurse", "organisation": "GP",
                       "setting": "health"}}, ["reporter", "email"]),
        ({"persons_of_concern": [{"age": 30, "relationship": "uncle"}]},
         ["persons_of_concern", 0, "surname"]),
        ({"how": "guessed"}, ["how"]),
    ],
)  # fmt: skip
def test_the_api_refuses_a_report_the_rules_do_not_accept_naming_the_field(
    app: FastAPI, change: dict[str, Any], where: list[object]
) -> None:
    teacher, _ = member(app, "reviewer", NORTHSHIRE)
    answer = teacher.post("/api/duty-reports", json=report(**change))
    assert answer.status_code == 422, answer.text
    assert [["body", *where]] == [p["loc"] for p in answer.json()["detail"]]
    with app.state.sessions() as session:
        assert session.scalars(select(DutyReport)).first() is None


def test_a_late_report_with_its_reason_is_taken_and_its_delay_shown(app: FastAPI) -> None:
    teacher, _ = member(app, "reviewer", NORTHSHIRE)
    late = report(
        disclosed_on=(TODAY - dt.timedelta(days=9)).isoformat(),
        delay_reason="The child asked me to wait until she was safe at her grandmother's.",
    )
    receipt = teacher.post("/api/duty-reports", json=late).json()
    assert receipt["delay_days"] == 9 and receipt["beyond_allowed_delay"]
    page = teacher.get(f"/duty-reports/{receipt['reference']}")
    assert "9 days after the disclosure, beyond the 7 days the duty allows" in page.text


def test_roles_that_do_not_work_casework_cannot_file(app: FastAPI) -> None:
    for role in ("auditor", "administrator"):
        client, _ = member(app, role, NORTHSHIRE)
        assert client.post("/api/duty-reports", json=report()).status_code == 403
        assert client.get("/duty-reports/new").status_code == 403


FORM = {
    "reporter_name": "Ada Whitlow", "reporter_role": "teacher",
    "reporter_organisation": "Fenby Academy", "reporter_setting": "education",
    "reporter_phone": "", "reporter_email": "a.whitlow@fenby.example",
    "child_forenames": "Lily", "child_surname": CHILD_SURNAME, "child_date_of_birth": "",
    "child_age": "13", "child_sex": "female", "child_postcode": "ns14qt",
    "concern_forenames": ["Gareth", ""], "concern_surname": [CONCERN_SURNAME, ""],
    "concern_date_of_birth": ["", ""], "concern_age": ["41", ""],
    "concern_sex": ["male", "unknown"], "concern_relationship": ["mother's partner", ""],
    "how": "told", "disclosure": "Lily told me at break.",
    "disclosed_on": TODAY.isoformat(), "reported_on": "", "delay_reason": "",
    "action": "file",
}  # fmt: skip


def test_the_form_files_a_report_and_shows_its_receipt(app: FastAPI) -> None:
    teacher, _ = member(app, "reviewer", WESTVALE)
    form = teacher.get("/duty-reports/new")
    assert form.status_code == 200 and 'name="concern_relationship"' in form.text
    answer = teacher.post("/duty-reports", data=FORM, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    receipt = teacher.get(answer.headers["location"])
    reference = re.search(r'id="reference">([^<]+)<', receipt.text)
    assert reference and REFERENCE.match(reference.group(1))
    assert "Report received" in receipt.text and f"{NORTHSHIRE} (postcode district NS1)" in (
        receipt.text
    )
    assert CONCERN_SURNAME in receipt.text and "NS1 4QT" in receipt.text
    assert reference.group(1) in teacher.get("/duty-reports").text
    with app.state.sessions() as session:
        stored = session.scalars(select(DutyReport)).one()
    assert stored.reference == reference.group(1) and stored.force == NORTHSHIRE
    assert len(json.loads(stored.details)["persons_of_concern"]) == 1  # the blank row is none


def test_a_refused_form_comes_back_refilled_with_each_message_beside_its_field(
    app: FastAPI,
) -> None:
    teacher, _ = member(app, "reviewer", NORTHSHIRE)
    sent = FORM | {
        "child_age": "", "reporter_email": "not an address",
        "concern_relationship": ["", ""], "disclosed_on": "01/02/2026",
    }  # fmt: skip
    answer = teacher.post("/duty-reports", data=sent)
    assert answer.status_code == 422
    page = answer.text
    for field, message in (
        ("child_age", "give the child&#39;s birth date or, if you do not know it, their age"),
        ("reporter_email", "give an email address such as name@school.example"),
        ("concern_relationship-0", "This is needed."),
        ("disclosed_on", "Give a date as year-month-day, such as 2026-03-01."),
    ):
        beside = re.search(
            rf'<p class="field-error" id="{re.escape(field)}-error">.*?</p>\s*<(input|textarea)'
            rf'[^>]*id="{re.escape(field)}"[^>]*aria-describedby="[^"]*{re.escape(field)}-error"',
            page, re.S | re.I,
        )  # fmt: skip
        assert beside, field
        assert message.lower() in page.lower(), message
    # what was typed comes back (escaped), so nothing has to be typed again
    assert f'value="{CHILD_SURNAME}"' in page and 'value="not an address"' in page
    assert "Lily told me at break." in page and 'href="#child_age"' in page
    with app.state.sessions() as session:
        assert session.scalars(select(DutyReport)).first() is None


def test_add_another_person_gives_one_more_row_and_keeps_what_was_typed(app: FastAPI) -> None:
    teacher, _ = member(app, "reviewer", NORTHSHIRE)
    answer = teacher.post("/duty-reports", data=FORM | {"action": "add_person"})
    assert answer.status_code == 200
    assert answer.text.count('name="concern_relationship"') == 3
    assert f'value="{CONCERN_SURNAME}"' in answer.text
    with app.state.sessions() as session:
        assert session.scalars(select(DutyReport)).first() is None


def test_hostile_values_are_stored_as_typed_and_shown_escaped(app: FastAPI) -> None:
    teacher, _ = member(app, "reviewer", NORTHSHIRE)
    sent = FORM | {
        "child_surname": HOSTILE["victim_surname"],
        "child_forenames": HOSTILE["victim_forenames"],
        "concern_surname": [HOSTILE["second_suspect_forenames"], ""],
        "concern_forenames": [HOSTILE["witness_aliases"], ""],
        "disclosure": HOSTILE["crime_detail"] + "\n" + HOSTILE["incident_detail"],
    }
    answer = teacher.post("/duty-reports", data=sent)
    assert answer.status_code == 200, answer.text[:300]
    page = answer.text
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "=HYPERLINK(&#34;http://example.invalid&#34;,&#34;open&#34;)" in page
    assert "\u202egnp.exe" in page and "\u0645\u0631\u064a\u0645" in page  # RTL kept
    api = teacher.get("/api/duty-reports").json()[0]["reference"]
    stored = teacher.get(f"/api/duty-reports/{api}").json()["report"]
    assert stored["child"]["surname"] == HOSTILE["victim_surname"]
    assert stored["disclosure"] == sent["disclosure"]


def test_a_role_that_may_not_read_victims_sees_the_child_masked_unless_it_filed(
    app: FastAPI,
) -> None:
    teacher, _ = member(app, "reviewer", NORTHSHIRE)
    reference = teacher.post("/api/duty-reports", json=report()).json()["reference"]
    analyst, _ = member(app, "analyst", NORTHSHIRE)
    shown = analyst.get(f"/api/duty-reports/{reference}").json()
    assert shown["report"]["child"]["surname"] is None
    assert "child.surname" in shown["masked"]
    page = analyst.get(f"/duty-reports/{reference}").text
    assert CHILD_SURNAME not in page and "masked" in page
    assert CONCERN_SURNAME in page
    filed = analyst.post("/api/duty-reports", json=report()).json()["reference"]
    own = analyst.get(f"/api/duty-reports/{filed}").json()
    assert own["report"]["child"]["surname"] == CHILD_SURNAME and own["masked"] == []
