"""A small workspace for the casework tests, built once per test session, and the helpers that
put a service over it with a signed-in principal.

The workspace is ``casebridge synth --people 300`` plus one source written here by hand,
``southmoor`` (agency Southmoor Police, which nothing else holds): one crime against a child by
two suspects (a network of its own) and one incident with a witness, whose names and free text
are hostile values (script tags, SQL, spreadsheet formula prefixes, a very long name and
right-to-left text). Its suspect is written "Rupert Smyth" so that a search for "Robert Smith"
finds him: the two spellings share a Soundex code (R163, S530) in the US National Archives'
published Soundex rules, as the linker's phonetic keys follow.

Tests sign in through the real sign-in steps (:func:`login`, ``tests/web/support.py``).
"""

from __future__ import annotations

import csv
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from casebridge.audit.run import audit
from casebridge.ingest.run import ingest
from casebridge.link.run import link
from casebridge.networks.run import build_networks
from casebridge.screen.rules import load_rules
from casebridge.screen.run import screen
from casebridge.synth.generate import generate
from casebridge.synth.profile import load_profile
from casebridge.web.app import create_app
from casebridge.web.auth.csrf import CSRF_HEADER
from casebridge.web.config import ServiceSettings
from casebridge.web.models import Account
from casebridge.web.snapshot import DATABASE, current_name, publish_snapshot, snapshots_folder
from casebridge.workspace import Workspace, open_workspace
from tests.web.support import closing, sign_in

PEOPLE = 300
SEED = 5
PLANTED = "southmoor"
PLANTED_AGENCY = "Southmoor Police"
NORTHSHIRE = "Northshire Police"
LONG_NAME = "Ab" * 2500  # 5,000 characters
HOSTILE = {
    "victim_surname": "<script>alert('x')</script>",
    "victim_forenames": '=HYPERLINK("http://example.invalid","open")',
    "second_suspect_surname": LONG_NAME,
    "second_suspect_forenames": "@SUM(A1:A9)",
    "witness_surname": "Robert'); DROP TABLE person_record;--",
    "witness_forenames": "+1-1",
    # a right-to-left override, then Arabic and Hebrew letters
    "witness_aliases": "\u202egnp.exe; \u0645\u0631\u064a\u0645; \u05d3\u05d5\u05d3",
    "crime_detail": "<img src=x onerror=alert(1)> '; DROP TABLE event;-- -2+3",
    "incident_detail": "=cmd|' /C calc'!A0 \u202edetail\u202c",
}
COLUMNS = ("CrimeRef", "PersonRef", "Role", "Surname", "Forenames", "AKA", "DateOfBirth", "Sex",
           "Postcode", "OffenceCode", "ReportedDate", "Detail")  # fmt: skip
CRIME = ("SM/2020/000001", "22B", "2020-06-01", HOSTILE["crime_detail"])
INCIDENT = ("SM/2021/000002", "", "2021-03-04", HOSTILE["incident_detail"])
ROWS = (
    (*CRIME[:1], "SM-P0001", "Victim", HOSTILE["victim_surname"], HOSTILE["victim_forenames"],
     "", "2006-05-01", "F", "SM1 2AB", *CRIME[1:]),
    (*CRIME[:1], "SM-P0002", "Suspect", "Smyth", "Rupert", "", "1980-02-03", "M", "SM3 4BD",
     *CRIME[1:]),
    (*CRIME[:1], "SM-P0003", "Suspect", HOSTILE["second_suspect_surname"],
     HOSTILE["second_suspect_forenames"], "", "1979-07-08", "M", "", *CRIME[1:]),
    (*INCIDENT[:1], "SM-P0004", "Witness", HOSTILE["witness_surname"],
     HOSTILE["witness_forenames"], HOSTILE["witness_aliases"], "1990-01-02", "F", "",
     *INCIDENT[1:]),
)  # fmt: skip
MAPPING = """# Southmoor Police, written by hand for the casework tests.
source: southmoor
format: csv
event:
  local_id: CrimeRef
  kind: {constant: crime}
  date: {column: ReportedDate, formats: ["%Y-%m-%d"]}
  offence: OffenceCode
  detail: Detail
persons:
  - local_id: PersonRef
    role: Role
    surname: Surname
    forenames: Forenames
    aliases: AKA
    date_of_birth: {column: DateOfBirth, formats: ["%Y-%m-%d"]}
    sex: Sex
    postcode: Postcode
"""
# the duty-report routing table the service over this world is given (CASEBRIDGE_DUTY_ROUTING):
# districts of the synthetic forces (invented, like the forces), and Southmoor's
DUTY_ROUTING = "duty_routing.csv"
DUTY_DISTRICTS = (
    ("NS1", NORTHSHIRE), ("EM1", "Eastmoor Constabulary"), ("WX1", "Westvale Police"),
    ("SM1", PLANTED_AGENCY),
)  # fmt: skip
SOURCE = f"""
[[sources]]
key = "{PLANTED}"
agency = "{PLANTED_AGENCY}"
kind = "police"
path = "extracts/southmoor.csv"
mapping = "mappings/southmoor.yaml"
"""


@dataclass(frozen=True)
class World:
    """The built workspace."""

    root: Path

    @property
    def workspace(self) -> Workspace:
        return open_workspace(self.root)

    def record(self, local_id: str) -> str:
        return f"{PLANTED}:{local_id}"


def plant_source(root: Path) -> None:
    """Add the hand-written Southmoor source to a synthetic workspace."""
    with (root / "extracts" / "southmoor.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(ROWS)
    (root / "mappings" / "southmoor.yaml").write_text(MAPPING, encoding="utf-8")
    with (root / "casebridge.toml").open("a", encoding="utf-8") as settings:
        settings.write(SOURCE)
    write_duty_routing(root)


def write_duty_routing(root: Path) -> None:
    """The world's postcode district -> force table for duty reports."""
    with (root / DUTY_ROUTING).open("w", encoding="utf-8", newline="") as out:
        out.write("# invented districts of the casework tests' invented forces\n")
        writer = csv.writer(out)
        writer.writerow(("postcode", "force"))
        writer.writerows(DUTY_DISTRICTS)


def run_stages(workspace: Workspace) -> None:
    """Ingest, link, networks, screen and audit (what the service reads), then publish."""
    ingest(workspace)
    link(workspace)
    engine = workspace.connect()
    try:
        build_networks(engine, workspace.settings.networks, workspace.settings.vocabulary)
        screen(engine, load_rules(workspace.root / "rules"), workspace.settings.vocabulary)
        audit(engine, workspace.audit_settings(), workspace.root / "audit")
    finally:
        engine.close()
    publish_snapshot(workspace.root)


_BUILT: dict[str, World] = {}


def built_world(factory: Callable[[str], Path]) -> World:
    """The session's workspace, built on first use (``factory`` is tmp_path_factory.mktemp)."""
    if "world" not in _BUILT:
        root = factory("casework") / "workspace"
        generate(PEOPLE, SEED, load_profile("default"), root)
        plant_source(root)
        run_stages(open_workspace(root))
        _BUILT["world"] = World(root)
    return _BUILT["world"]


def copy_world(world: World, target: Path) -> World:
    """A copy of the workspace to change (a test that runs a stage or publishes)."""
    shutil.copytree(world.root, target)
    return World(target)


def service(settings: ServiceSettings, world: World) -> FastAPI:
    """The service over ``world`` with the test's database; it looks for a new snapshot on
    every request."""
    # a world built by plant_source has its routing table; one built otherwise the shipped one
    routing = world.root / DUTY_ROUTING if (world.root / DUTY_ROUTING).is_file() else None
    app = create_app(
        settings.model_copy(update={"workspace": world.root, "duty_routing_file": routing})
    )
    app.state.snapshots.check_seconds = 0.0
    return app


@contextmanager
def serving(settings: ServiceSettings, world: World) -> Iterator[FastAPI]:
    """:func:`service`, its snapshot and database connections closed when the block ends."""
    with closing(service(settings, world)) as app:
        try:
            yield app
        finally:
            app.state.snapshots.close()


@dataclass(frozen=True)
class SignedIn:
    """The account a test client is signed in as."""

    account_id: int
    username: str
    role: str


def login(client: TestClient, app: FastAPI, role: str, *scopes: str) -> SignedIn:
    """Sign ``client`` in as a new account of ``role`` seeing ``scopes``, through the real
    sign-in steps; every request of the client then carries the session's CSRF token."""
    username = f"{role}-{secrets.token_hex(4)}"
    client.headers[CSRF_HEADER] = sign_in(client, app, role, sorted(scopes), username)
    with app.state.sessions() as session:
        account_id = session.scalars(select(Account.id).where(Account.username == username)).one()
    return SignedIn(account_id, username, role)


# the CSRF token a page's forms carry
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def token_of(html: str) -> str:
    """The CSRF token of the page's forms."""
    found = FORM_TOKEN.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def page_login(client: TestClient, app: FastAPI, role: str, *scopes: str) -> tuple[int, str]:
    """Sign in through the API's steps, then drop the header (forms carry their own token):
    the account's number and its forms' token."""
    me = login(client, app, role, *scopes)
    del client.headers[CSRF_HEADER]
    return me.account_id, token_of(client.get("/account").text)


def snapshot_rows(
    world: World, sql: str, params: list[object] | None = None
) -> list[tuple[object, ...]]:
    """Rows of a query on the world's current snapshot, read directly (a test's own oracle)."""
    name = current_name(world.root)
    assert name is not None
    connection = duckdb.connect(str(snapshots_folder(world.root) / name / DATABASE), read_only=True)
    try:
        return connection.execute(sql, params or []).fetchall()
    finally:
        connection.close()
