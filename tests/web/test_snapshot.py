"""Published snapshots: the pipeline copies its results and switches a pointer; the service reads
the current copy read-only and moves to a new one without breaking a request in flight."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from casebridge.cli import app as cli
from casebridge.screen.rules import load_rules
from casebridge.screen.run import screen
from casebridge.web.config import ServiceSettings
from casebridge.web.services.scope import SCOPE_TABLES
from casebridge.web.snapshot import (
    CURRENT,
    DATABASE,
    KEEP,
    MODEL,
    NoSnapshotError,
    SnapshotError,
    SnapshotStore,
    current_name,
    ensure_snapshot,
    publish_snapshot,
    snapshots_folder,
)
from tests.web.casework_world import (
    NORTHSHIRE,
    World,
    built_world,
    copy_world,
    login,
    serving,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return built_world(tmp_path_factory.mktemp)


@pytest.fixture
def copied(world: World, tmp_path: Path) -> World:
    return copy_world(world, tmp_path / "copy")


def _items(folder: Path) -> int:
    connection = duckdb.connect(str(folder / DATABASE), read_only=True)
    try:
        found = connection.execute("SELECT count(*) FROM review_item").fetchone()
    finally:
        connection.close()
    return int(found[0]) if found else -1


def _fewer_items(world: World) -> int:
    """Screen again with one rule only; return how many items the workspace holds now."""
    workspace = world.workspace
    engine = workspace.connect()
    try:
        rules = [rule for rule in load_rules(world.root / "rules") if rule.enabled][:1]
        return screen(engine, rules, workspace.settings.vocabulary).items
    finally:
        engine.close()


def tables_of(database: Path) -> dict[str, int]:
    """Each table of a database and its number of rows."""
    connection = duckdb.connect(str(database), read_only=True)
    try:
        names = [
            r[0] for r in connection.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        ]
        return {n: connection.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        connection.close()


def test_a_publish_copies_the_database_and_model_and_switches_the_pointer(copied: World) -> None:
    before = current_name(copied.root)
    name = publish_snapshot(copied.root)
    folder = snapshots_folder(copied.root)
    assert name is not None and name != before and name > (before or "")
    assert (folder / CURRENT).read_text(encoding="utf-8").strip() == name
    published, written = tables_of(folder / name / DATABASE), tables_of(copied.workspace.database)
    # the copy holds every table as written, and the agency scope's tables beside them
    assert {t: published[t] for t in written} == written
    assert set(published) - set(written) == {name for name, _, _ in SCOPE_TABLES}
    indexed = duckdb.connect(str(folder / name / DATABASE), read_only=True)
    try:  # the copy, not the workspace's database, has its lookups indexed
        indexes = {
            r[0] for r in indexed.execute("SELECT index_name FROM duckdb_indexes()").fetchall()
        }
    finally:
        indexed.close()
    assert {"cb_person_person_id", "cb_person_record_record_id"} <= indexes
    assert (folder / name / MODEL).is_file()
    assert not list(folder.glob("**/*.partial")) and not list(folder.glob("*.tmp"))
    # personal data: readable by its owner only, whatever the umask
    for path in (folder, folder / name, folder / name / DATABASE, folder / CURRENT):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_a_snapshot_without_the_scope_tables_is_published_again(copied: World) -> None:
    old = publish_snapshot(copied.root)
    assert old is not None
    database = snapshots_folder(copied.root) / old / DATABASE
    older = duckdb.connect(str(database))  # as an older casebridge published it
    try:
        for name, _, _ in SCOPE_TABLES:
            older.execute(f'DROP TABLE "{name}"')
    finally:
        older.close()
    fresh = ensure_snapshot(copied.root)
    assert fresh is not None and fresh > old
    assert set(tables_of(snapshots_folder(copied.root) / fresh / DATABASE)) >= {
        name for name, _, _ in SCOPE_TABLES
    }
    assert ensure_snapshot(copied.root) == fresh  # prepared: left alone


def test_only_the_newest_snapshots_are_kept(copied: World) -> None:
    names = [publish_snapshot(copied.root) for _ in range(KEEP + 2)]
    kept = sorted(p.name for p in snapshots_folder(copied.root).iterdir() if p.is_dir())
    assert kept == sorted(n for n in names if n)[-KEEP:]
    assert current_name(copied.root) == names[-1]


def test_a_workspace_without_a_database_publishes_nothing(tmp_path: Path) -> None:
    assert publish_snapshot(tmp_path) is None
    with pytest.raises(NoSnapshotError), SnapshotStore(tmp_path).reading():
        pass


def test_a_database_held_by_a_writer_is_not_copied(copied: World) -> None:
    writer = copied.workspace.connect()
    try:
        with pytest.raises(SnapshotError, match="in use"):
            publish_snapshot(copied.root)
    finally:
        writer.close()


def test_requests_in_flight_finish_on_the_old_snapshot(copied: World) -> None:
    store = SnapshotStore(copied.root, check_seconds=0.0)
    with store.reading() as old:
        before = old.dicts("SELECT count(*) AS n FROM review_item")[0]["n"]
        after = _fewer_items(copied)
        publish_snapshot(copied.root)
        with store.reading() as new:
            assert new.snapshot.name != old.snapshot.name
            assert new.dicts("SELECT count(*) AS n FROM review_item")[0]["n"] == after
        # the old snapshot still answers, and with the old results
        assert old.dicts("SELECT count(*) AS n FROM review_item")[0]["n"] == before != after
    with pytest.raises(duckdb.Error):  # closed once its last reader ended
        old.snapshot.connection.execute("SELECT 1")
    store.close()


def test_the_store_looks_for_a_new_snapshot_at_most_every_so_often(copied: World) -> None:
    store = SnapshotStore(copied.root, check_seconds=3600.0)
    first = store.current()
    publish_snapshot(copied.root)
    assert store.current() is first
    store.check_seconds = 0.0
    current = store.current()
    assert current is not None and first is not None and current.name != first.name
    store.close()


def test_a_stage_run_while_requests_are_served_breaks_none(
    service_settings: ServiceSettings, copied: World
) -> None:
    answers: list[int] = []
    totals: list[int] = []
    answered, stop = threading.Event(), threading.Event()

    def ask(app: FastAPI) -> None:
        with TestClient(app) as client:
            login(client, app, "supervisor", NORTHSHIRE)
            while not stop.is_set():
                answer = client.get("/api/queue", params={"page_size": 5})
                answers.append(answer.status_code)
                totals.append(answer.json().get("total", -1))
                answered.set()

    with serving(service_settings, copied) as app:
        asking = threading.Thread(target=ask, args=(app,))
        asking.start()
        try:
            assert answered.wait(timeout=60)
            _fewer_items(copied)
            publish_snapshot(copied.root)
            count = len(answers)
            while len(answers) < count + 2 and asking.is_alive():
                stop.wait(0.01)  # two more answers, after the switch
        finally:
            stop.set()
            asking.join(timeout=60)
        with TestClient(app) as client:
            login(client, app, "supervisor", NORTHSHIRE)
            final = client.get("/api/queue").json()
    assert set(answers) == {200}
    assert totals[0] > totals[-1] >= 0  # the old results, then the new
    assert final["snapshot"] == current_name(copied.root)
    assert final["total"] == totals[-1]


def test_a_stage_command_publishes(copied: World) -> None:
    before = current_name(copied.root)
    answer = CliRunner().invoke(cli, ["screen", "-w", str(copied.root)])
    assert answer.exit_code == 0, answer.output
    name = current_name(copied.root)
    assert name is not None and name != before
    assert _items(snapshots_folder(copied.root) / name) > 0


def test_the_service_closes_its_snapshot_when_it_stops(
    service_settings: ServiceSettings, world: World
) -> None:
    with serving(service_settings, world) as app:
        with TestClient(app) as client:
            login(client, app, "analyst", NORTHSHIRE)
            assert client.get("/api/snapshot").json()["name"] == current_name(world.root)
            served = app.state.snapshots.current()
        assert served is not None
        with pytest.raises(duckdb.Error):
            served.connection.execute("SELECT 1")
