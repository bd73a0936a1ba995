"""A duty report filed in the service enters the next pipeline run as a source: its child and
its person of concern become records (agency: the force it was routed to) with the report as
their event, are linked into persons, and are found in the person pages within that force's
scope, and nowhere else's."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from casebridge.ingest.duty_reports import UNROUTED_AGENCY, source_key
from casebridge.ingest.run import ingest
from casebridge.web.config import DATABASE_URL_VARIABLE, ServiceSettings
from tests.web.casework_world import (
    NORTHSHIRE,
    World,
    built_world,
    copy_world,
    login,
    run_stages,
    serving,
    snapshot_rows,
)
from tests.web.test_duty_reports import CHILD_SURNAME, CONCERN_SURNAME, WESTVALE, report


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return built_world(tmp_path_factory.mktemp)


def test_a_filed_report_is_a_source_of_the_next_run_in_its_force_scope(
    service_settings: ServiceSettings,
    database_url: str,
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    copied = copy_world(world, tmp_path / "copy")
    key = source_key(NORTHSHIRE)
    with serving(service_settings, copied) as app:
        with TestClient(app) as teacher:
            login(teacher, app, "reviewer", WESTVALE)
            routed = teacher.post("/api/duty-reports", json=report()).json()["reference"]
            unrouted = teacher.post("/api/duty-reports", json=report("ZZ9 9ZZ")).json()
        # the pipeline finds the service's database as `casebridge serve` does
        monkeypatch.setenv(DATABASE_URL_VARIABLE, database_url)
        run_stages(copied.workspace)
        sources = snapshot_rows(
            copied, "SELECT source, agency, kind, rows_loaded FROM source "
            "WHERE kind = 'duty_report' AND source LIKE 'duty_reports%' ORDER BY source",
        )  # fmt: skip
        assert sources == [
            (key, NORTHSHIRE, "duty_report", 1),
            (source_key(None), UNROUTED_AGENCY, "duty_report", 1),
        ]
        records = snapshot_rows(
            copied,
            """SELECT r.record_id, r.surname, i.role, e.kind, l.person_id FROM person_record r
            JOIN involvement i ON i.record_id = r.record_id JOIN event e ON e.event_id = i.event_id
            JOIN person_link l ON l.record_id = r.record_id
            WHERE r.source = ? ORDER BY r.record_id""",
            [key],
        )
        assert [row[:4] for row in records] == [
            (f"{key}:{routed}-child", CHILD_SURNAME.lower(), "victim", "duty_report"),
            (f"{key}:{routed}-p1", CONCERN_SURNAME.lower(), "person_of_concern", "duty_report"),
        ]
        concern_record, concern_person = str(records[1][0]), str(records[1][4])
        with TestClient(app) as northshire:
            login(northshire, app, "supervisor", NORTHSHIRE)
            page = northshire.get(f"/persons/{concern_person}")
            assert page.status_code == 200 and CONCERN_SURNAME in page.text
            assert routed in northshire.get(f"/api/records/{concern_record}").text
        with TestClient(app) as westvale:
            login(westvale, app, "supervisor", WESTVALE)
            assert westvale.get(f"/persons/{concern_person}").status_code == 404
            assert westvale.get(f"/api/records/{concern_record}").status_code == 404
    assert unrouted["force"] is None
    # a second ingest finds the same reports: nothing changes
    again = {r.source: r.status for r in ingest(copied.workspace)}
    assert again[key] == "unchanged" and again[source_key(None)] == "unchanged"
    extract = copied.root / "duty_reports" / f"{key}.jsonl"
    assert extract.stat().st_mode & 0o077 == 0
