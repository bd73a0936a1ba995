"""Judgements made in the service are the ones ``casebridge link`` honours: 'different' splits
two records the last run had merged, 'same' joins two it had kept apart; importing them is
idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from casebridge.link.judgements import SERVICE_JUDGE, import_service_judgements
from casebridge.link.run import link
from casebridge.web.config import DATABASE_URL_VARIABLE, ServiceSettings
from casebridge.web.snapshot import publish_snapshot
from tests.web.casework_world import (
    World,
    built_world,
    copy_world,
    login,
    serving,
    snapshot_rows,
)

VICTIM, WITNESS = "southmoor:SM-P0001", "southmoor:SM-P0004"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return built_world(tmp_path_factory.mktemp)


def test_judgements_made_in_the_service_steer_the_next_link(
    service_settings: ServiceSettings,
    database_url: str,
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    copied = copy_world(world, tmp_path / "copy")
    merged = snapshot_rows(
        copied,
        """SELECT a.record_id, b.record_id FROM person_link a
        JOIN person_link b ON b.person_id = a.person_id AND a.record_id < b.record_id
        ORDER BY a.person_id LIMIT 1""",
    )[0]
    agencies = {str(row[0]) for row in snapshot_rows(copied, "SELECT agency FROM source")}
    with serving(service_settings, copied) as app, TestClient(app) as client:
        account = login(client, app, "supervisor", *agencies).account_id
        for first, second, verdict in ((*merged, "different"), (VICTIM, WITNESS, "same")):
            before = client.get("/api/pairs", params={"first": first, "second": second}).json()
            assert before["same_person"] == (verdict == "different")
            body = {"first": first, "second": second, "verdict": verdict, "reason": "checked"}
            assert client.post("/api/pairs/judgements", json=body).status_code == 201
        # the pipeline finds the service's database as `casebridge serve` does
        monkeypatch.setenv(DATABASE_URL_VARIABLE, database_url)
        link(copied.workspace)
        publish_snapshot(copied.root)
        split = client.get("/api/pairs", params={"first": merged[0], "second": merged[1]}).json()
        joined = client.get("/api/pairs", params={"first": VICTIM, "second": WITNESS}).json()
    assert not split["same_person"] and joined["same_person"]
    stored = snapshot_rows(copied, "SELECT verdict, judged_by FROM match_judgement ORDER BY 1")
    assert stored == [
        ("different", SERVICE_JUDGE.format(account)),
        ("same", SERVICE_JUDGE.format(account)),
    ]
    # a second import adds nothing
    engine = copied.workspace.connect()
    try:
        assert import_service_judgements(engine, copied.root) == 0
        assert engine.scalar("SELECT count(*) FROM match_judgement") == 2
    finally:
        engine.close()


def test_without_a_service_database_there_is_nothing_to_import(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied = copy_world(world, tmp_path / "copy")
    monkeypatch.delenv(DATABASE_URL_VARIABLE, raising=False)
    engine = copied.workspace.connect()
    try:
        assert import_service_judgements(engine, copied.root) == 0
    finally:
        engine.close()
    assert not (copied.root / "service.sqlite").exists()
