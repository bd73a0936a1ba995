"""Hostile values: names and free text holding script tags, SQL, spreadsheet formulas, 10,000
characters and right-to-left text, planted in a source written here by hand, run through the
pipeline, and read back through the API; and the same values sent to the API by people (notes,
reasons, searches).

They must come back exactly as written, as JSON data (never a server error); every CSV the
service exports neutralises a cell that starts as a formula (OWASP, "CSV Injection": ``=``,
``+``, ``-``, ``@``, tab, carriage return); the service renders no HTML (its pages come later),
so nothing it serves is read as markup: JSON with ``nosniff`` and a strict CSP.
"""

from __future__ import annotations

import csv
import io
import secrets
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from httpx2 import Response

from casebridge.synth.generate import generate
from casebridge.synth.profile import load_profile
from casebridge.web.config import ServiceSettings
from casebridge.web.permissions import api_routes
from casebridge.workspace import open_workspace
from tests.web.casework_world import World, login, run_stages, serving, snapshot_rows

AGENCY = "Harbourside Police"
KEY = "harbour"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SCRIPT = "<script>alert('x')</script>"
IMAGE = '<img src=x onerror="alert(1)">'
SQL = "Robert'); DROP TABLE person_record;--"
SQL_TRUE = "' OR '1'='1"
LONG = "Ab" * 5000  # 10,000 characters
# a right-to-left override, Arabic and Hebrew letters, bidi isolates, a line separator
BIDI = "\u202egnp.exe; \u0645\u0631\u064a\u0645; \u05d3\u05d5\u05d3"
ISOLATES = "\u2067\u0633\u0627\u0631\u0629\u2069 \u2066Sara\u2069"
SEPARATED = 'line\u2028separated "quoted" back\\slash </script>'
FORMULAS = ('=HYPERLINK("http://example.invalid","open")', "+1-1", "-2+3", "@SUM(A1:A9)",
            "=cmd|' /C calc'!A0")  # fmt: skip
# what each planted person and event holds, by column of the hand-written extract
COLUMNS = ("CrimeRef", "PersonRef", "Role", "Surname", "Forenames", "AKA", "DateOfBirth", "Sex",
           "Ethnicity", "Nationality", "Postcode", "Address", "Town", "Phone", "Email",
           "OffenceCode", "Outcome", "ReportedDate", "Detail")  # fmt: skip
CRIME = {"CrimeRef": "HB/2020/000001", "OffenceCode": "22B", "Outcome": FORMULAS[3],
         "ReportedDate": "2020-06-01", "Detail": f"{IMAGE} {SQL} {FORMULAS[2]}"}  # fmt: skip
INCIDENT = {"CrimeRef": "HB/2021/000002", "OffenceCode": FORMULAS[0], "Outcome": "",
            "ReportedDate": "2021-03-04",
            "Detail": f"{FORMULAS[4]} {BIDI} {SEPARATED}"}  # fmt: skip
PERSONS = (
    {**CRIME, "PersonRef": "HB-P0001", "Role": "Victim", "Surname": SCRIPT,
     "Forenames": FORMULAS[0], "DateOfBirth": "2007-05-01", "Sex": "F", "Postcode": "TR1 2AB",
     "Address": IMAGE, "Town": FORMULAS[2], "Email": "child@example.invalid"},
    {**CRIME, "PersonRef": "HB-P0002", "Role": "Suspect", "Surname": LONG,
     "Forenames": FORMULAS[3], "AKA": BIDI, "DateOfBirth": "1979-07-08", "Sex": "M",
     "Ethnicity": SQL_TRUE, "Nationality": FORMULAS[1]},
    {**CRIME, "PersonRef": "HB-P0003", "Role": "Suspect", "Surname": "Penhaligon",
     "Forenames": "Jory", "DateOfBirth": "1981-02-03", "Sex": "M", "AKA": ISOLATES},
    {**INCIDENT, "PersonRef": "HB-P0004", "Role": "Witness", "Surname": SQL,
     "Forenames": FORMULAS[1], "AKA": ISOLATES, "DateOfBirth": "1990-01-02", "Sex": FORMULAS[4],
     "Address": SEPARATED, "Town": BIDI, "Phone": FORMULAS[0], "Email": SCRIPT,
     "Postcode": SQL_TRUE},
)  # fmt: skip
# the extract's columns as the API names the raw values of a source row
ROW_FIELDS = {"Surname": "surname", "Forenames": "forenames", "AKA": "aliases", "Sex": "sex",
              "Ethnicity": "ethnicity_self", "Nationality": "nationality",
              "Postcode": "postcode", "Address": "address", "Town": "town", "Phone": "phone",
              "Email": "email"}  # fmt: skip
EVENT_FIELDS = {"Detail": "detail", "OffenceCode": "offence", "Outcome": "outcome"}
MAPPING = """# Harbourside Police, written by hand for the hostile-values tests.
source: harbour
format: csv
event:
  local_id: CrimeRef
  kind: {constant: crime}
  date: {column: ReportedDate, formats: ["%Y-%m-%d"]}
  offence: OffenceCode
  outcome: Outcome
  detail: Detail
persons:
  - local_id: PersonRef
    role: Role
    surname: Surname
    forenames: Forenames
    aliases: AKA
    date_of_birth: {column: DateOfBirth, formats: ["%Y-%m-%d"]}
    sex: Sex
    ethnicity_self: Ethnicity
    nationality: Nationality
    postcode: Postcode
    address: Address
    town: Town
    phone: Phone
    email: Email
"""
SOURCE = f"""
[[sources]]
key = "{KEY}"
agency = "{AGENCY}"
kind = "police"
path = "extracts/harbour.csv"
mapping = "mappings/harbour.yaml"
"""


def record_of(person: dict[str, str]) -> str:
    return f"{KEY}:{person['PersonRef']}"


def event_of(row: dict[str, str]) -> str:
    return f"{KEY}:{row['CrimeRef']}"


def build(root: Path) -> World:
    """A small synthetic workspace with the hand-written Harbourside source, run and
    published."""
    generate(100, 17, load_profile("default"), root)
    with (root / "extracts" / "harbour.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, COLUMNS, restval="")
        writer.writeheader()
        writer.writerows(PERSONS)
    (root / "mappings" / "harbour.yaml").write_text(MAPPING, encoding="utf-8")
    with (root / "casebridge.toml").open("a", encoding="utf-8") as settings:
        settings.write(SOURCE)
    run_stages(open_workspace(root))
    return World(root)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build(tmp_path_factory.mktemp("hostile") / "workspace")


@pytest.fixture
def served(service_settings: ServiceSettings, world: World) -> Iterator[FastAPI]:
    with serving(service_settings, world) as app:
        yield app


def person_of(world: World, record: str) -> str:
    found = snapshot_rows(world, "SELECT person_id FROM person_link WHERE record_id = ?", [record])
    return str(found[0][0])


def is_data(answer: Response) -> bool:
    """A JSON answer a browser will not sniff into markup."""
    return (
        answer.headers["content-type"] == "application/json"
        and answer.headers["x-content-type-options"] == "nosniff"
        and "script-src 'self'" in answer.headers["content-security-policy"]
    )


def test_planted_values_come_back_exactly_as_written(served: FastAPI) -> None:
    with TestClient(served) as client:
        login(client, served, "supervisor", AGENCY)
        for person in PERSONS:
            answer = client.get(f"/api/records/{record_of(person)}")
            assert answer.status_code == 200 and is_data(answer), answer.text[:200]
            raw = {f["field"]: f["raw"] for f in answer.json()["rows"][0]["fields"]}
            for column, field in ROW_FIELDS.items():
                if person.get(column):
                    assert raw[field] == person[column], (person["PersonRef"], column)
        for row in (CRIME, INCIDENT):
            answer = client.get(f"/api/events/{event_of(row)}")
            assert answer.status_code == 200 and is_data(answer)
            raw = {f["field"]: f["raw"] for f in answer.json()["fields"]}
            for column, field in EVENT_FIELDS.items():
                if row[column]:
                    assert raw[field] == row[column], (row["CrimeRef"], column)
    assert len(PERSONS[1]["Surname"]) == 10_000


def test_every_casework_answer_over_them_is_data_and_no_server_error(
    served: FastAPI, world: World
) -> None:
    records = [record_of(person) for person in PERSONS]
    persons = [person_of(world, record) for record in records]
    networks = snapshot_rows(
        world, "SELECT network_id FROM network_member WHERE person_id = ?", [persons[1]]
    )
    network = str(networks[0][0])
    reads = [
        "/api/queue?page_size=100", "/api/networks", f"/api/networks/{network}",
        *(f"/api/persons/{p}" for p in persons), *(f"/api/records/{r}" for r in records),
        *(f"/api/events/{event_of(row)}" for row in (CRIME, INCIDENT)),
        *(f"/api/items/event:{event_of(row)}" for row in (CRIME,)),
        f"/api/pairs?first={records[0]}&second={records[3]}",
        f"/api/pairs?first={records[1]}&second={records[2]}",
    ]  # fmt: skip
    answers: list[Response] = []
    with TestClient(served) as client:
        for role in ("analyst", "reviewer", "supervisor"):
            login(client, served, role, AGENCY)
            for path in reads:
                answers.append(client.get(path, headers={"X-Access-Reason": "hostile test"}))
            for name in (SCRIPT, SQL, SQL_TRUE, LONG[:400], BIDI, ISOLATES, *FORMULAS):
                answers.append(client.post("/api/search", json={"name": name, "reason": "r"}))
        login(client, served, "analyst", AGENCY)
        exports = {form: client.get(f"/api/networks/{network}/export", params={"format": form})
                   for form in ("graphml", "gexf", "i2")}  # fmt: skip
    failed = [(a.request.url.path, a.status_code) for a in answers if not a.is_success]
    assert not failed
    assert all(is_data(answer) for answer in answers)
    for form in ("graphml", "gexf"):
        ElementTree.fromstring(exports[form].content)  # well-formed XML
    archive = zipfile.ZipFile(io.BytesIO(exports["i2"].content))
    for name in archive.namelist():
        text = archive.read(name).decode("utf-8")
        body = "\n".join(line for line in text.splitlines() if not line.startswith("# "))
        cells = [cell for row in csv.reader(io.StringIO(body)) for cell in row]
        assert cells and not any(cell.startswith(FORMULA_STARTS) for cell in cells), name


HOSTILE_TEXT = (SCRIPT, IMAGE, SQL, SQL_TRUE, LONG, BIDI, ISOLATES, SEPARATED, *FORMULAS)


def test_text_people_write_is_kept_as_written(served: FastAPI) -> None:
    item = f"event:{event_of(CRIME)}"
    with TestClient(served) as client:
        login(client, served, "supervisor", AGENCY)
        for text in HOSTILE_TEXT:
            note = client.post(f"/api/items/{item}/notes", json={"text": text})
            assert note.status_code == 201 and note.json()["text"] == text
            status = client.post(
                f"/api/items/{item}/status", json={"status": "referred", "reason": text[:2000]}
            )
            assert status.status_code == 200 and status.json()["reason"] == text[:2000]
            judged = client.post("/api/pairs/judgements", json={
                "first": record_of(PERSONS[0]), "second": record_of(PERSONS[3]),
                "verdict": "different", "reason": text[:2000]})  # fmt: skip
            assert judged.status_code == 201 and judged.json()["reason"] == text[:2000]
        shown = client.get(f"/api/items/{item}").json()
    assert [note["text"] for note in shown["notes"]] == list(HOSTILE_TEXT)
    assert [entry["reason"] for entry in shown["statuses"]] == [t[:2000] for t in HOSTILE_TEXT]


def test_the_trail_keeps_reasons_as_given_and_its_csv_neutralises_formulas(
    served: FastAPI,
) -> None:
    victim = f"/api/records/{record_of(PERSONS[0])}"
    reasons = [text[:2000] for text in HOSTILE_TEXT]
    with TestClient(served) as client:
        login(client, served, "reviewer", AGENCY)
        for reason in reasons:  # beyond its assignments: each read needs, and keeps, a reason
            assert client.get(victim, params={"reason": reason}).status_code == 200
        login(client, served, "auditor", AGENCY)
        wanted = {"action": "casework.read_record"}
        as_json = client.get("/api/trail/export", params={**wanted, "format": "json"})
        as_csv = client.get("/api/trail/export", params={**wanted, "format": "csv"})
        page = client.get("/api/trail/entries", params={**wanted, "page_size": 100})
    assert [entry["reason"] for entry in as_json.json()] == [r.strip() for r in reasons]
    assert [entry["reason"] for entry in page.json()["entries"]] == [r.strip() for r in reasons]
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    cells = [cell for row in rows for cell in row]
    assert len(rows) == len(reasons) + 1
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    shown = [row[rows[0].index("reason")] for row in rows[1:]]
    assert shown == [("'" + r if r.startswith(FORMULA_STARTS) else r) for r in reasons]


def test_the_service_renders_no_html(served: FastAPI) -> None:
    for declared in api_routes(served.routes):
        answers = declared.route.response_class
        answers = getattr(answers, "value", answers)  # FastAPI's default is a placeholder
        assert not issubclass(answers, HTMLResponse), declared.path
    with TestClient(served) as client:
        login(client, served, "analyst", AGENCY)
        missing = client.get(f"/api/{secrets.token_hex(3)}/{SCRIPT}")
    assert missing.status_code == 404 and is_data(missing)
    assert SCRIPT not in missing.text
