"""The access trail's appends: one chain whatever the concurrency, hashes that mean the same on
every database, checkpoints signed as they fall due, and the signing key's life (made
owner-only, named by the environment, rotated without losing old checkpoints)."""

from __future__ import annotations

import datetime as dt
import json
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from casebridge.web.checkpoints import (
    KEY_VARIABLE,
    install,
    key_id,
    key_path,
    load_public_key,
    read_note,
    rotate_key,
    signing_key,
    stored,
    trusted_keys,
)
from casebridge.web.config import ServiceSettings
from casebridge.web.db import make_engine, migrate, session_factory, transaction
from casebridge.web.deps import Principal
from casebridge.web.merkle import MerkleTree
from casebridge.web.models import TrailCheckpoint, TrailEntry
from casebridge.web.trail import (
    GENESIS,
    canonical_time,
    entry_digest,
    entry_leaf,
    record,
)
from casebridge.web.trail_verify import Verdict, verify_trail

READER = Principal(
    account_id=7, username="r.okafor", role="reviewer", scopes=frozenset({"Northshire Police"})
)


@pytest.fixture
def sessions(
    service_settings: ServiceSettings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[sessionmaker[Session]]:
    """Sessions on a migrated service database that sign a checkpoint every 5 entries."""
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    engine = make_engine(service_settings.database_url)
    migrate(engine)
    factory = session_factory(engine)
    install(factory, service_settings.model_copy(update={"checkpoint_every": 5}))
    yield factory
    engine.dispose()


def _append(sessions: sessionmaker[Session], count: int, action: str = "person.read") -> None:
    for number in range(count):
        with transaction(sessions) as session:
            record(session, READER, action, "person", [f"person:{number}"], reason="assigned")


def _entries(sessions: sessionmaker[Session]) -> list[TrailEntry]:
    with sessions() as session:
        return list(session.scalars(select(TrailEntry).order_by(TrailEntry.seq)))


def test_entries_chain_from_the_genesis_hash(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 3)
    entries = _entries(sessions)
    assert [entry.seq for entry in entries] == [0, 1, 2]
    assert entries[0].prev_hash == GENESIS
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.entry_hash
    for entry in entries:  # read back from the database, the hash is the one written
        assert entry_digest(entry) == entry.entry_hash
    assert json.loads(entries[0].subject_ids) == ["person:0"]


def test_subject_ids_are_kept_once_and_sorted(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        entry = record(session, READER, "network.read", "network", ["n:2", "n:1", "n:2"])
    assert json.loads(entry.subject_ids) == ["n:1", "n:2"]


def test_times_hash_the_same_whatever_zone_the_database_gives_back() -> None:
    moment = dt.datetime(2026, 12, 7, 9, 14, 3, 120, tzinfo=dt.UTC)
    as_sqlite_gives = moment.replace(tzinfo=None)
    as_postgres_in_london = moment.astimezone(dt.timezone(dt.timedelta(hours=1)))
    texts = {canonical_time(value) for value in (moment, as_sqlite_gives, as_postgres_in_london)}
    assert texts == {"2026-12-07T09:14:03.000120Z"}


def test_concurrent_appends_never_fork_the_chain(sessions: sessionmaker[Session]) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def append_some() -> None:
        try:
            start.wait()
            _append(sessions, 12)
        except BaseException as error:  # noqa: B036 - the main thread reports it
            errors.append(error)

    threads = [threading.Thread(target=append_some) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    entries = _entries(sessions)
    assert [entry.seq for entry in entries] == list(range(48))
    with sessions() as session:
        report = verify_trail(session, trusted_keys(_key(sessions)))
        sizes = session.scalars(select(TrailCheckpoint.tree_size).order_by(TrailCheckpoint.id))
        assert sorted(sizes) == [5, 10, 15, 20, 25, 30, 35, 40, 45]
    assert not report.failed, [finding.line() for finding in report.findings]


def _key(sessions: sessionmaker[Session]) -> Path:
    with sessions() as session:
        listener = session.info["casebridge.trail.append_listener"]
    path: Path = listener.path
    return path


def test_checkpoints_fall_due_and_sign_the_trees_root(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 11)
    entries = _entries(sessions)
    tree = MerkleTree.from_leaf_hashes(entry_leaf(entry.entry_hash) for entry in entries)
    with sessions() as session:
        rows = list(session.scalars(select(TrailCheckpoint).order_by(TrailCheckpoint.id)))
    assert [row.tree_size for row in rows] == [5, 10]
    keys = trusted_keys(_key(sessions))
    for row in rows:
        checkpoint = stored(row)
        assert checkpoint.root == tree.root(row.tree_size)
        assert checkpoint.signature_problem(keys) is None
        public = keys[checkpoint.key_id]
        # the exported note reads back, and verifies on its own
        note = read_note(checkpoint.note(public), "note")
        assert note.signed_with([public]) == checkpoint


def test_the_key_is_made_owner_only_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "service-keys" / "trail-ed25519.pem"
    key = signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert key_id(signing_key(path).public_key()) == key_id(key.public_key())


def test_the_environment_names_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "vault" / "trail.pem"
    monkeypatch.setenv(KEY_VARIABLE, str(elsewhere))
    assert key_path(tmp_path / "workspace") == elsewhere
    monkeypatch.delenv(KEY_VARIABLE)
    assert key_path(tmp_path / "w") == tmp_path / "w" / "service-keys" / "trail-ed25519.pem"


def test_old_checkpoints_verify_after_the_key_is_rotated(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 5)
    path = _key(sessions)
    old, new = rotate_key(path)
    _append(sessions, 5)
    retired = sorted(path.parent.glob("*.pub.pem"))
    assert [key_id(load_public_key(file)) for file in retired] == [key_id(old)]
    assert "PRIVATE" not in retired[0].read_text()
    with sessions() as session:
        key_ids = [row.key_id for row in session.scalars(select(TrailCheckpoint))]
        assert sorted(key_ids) == sorted([key_id(old), key_id(new)])
        assert not verify_trail(session, trusted_keys(path)).failed
        # without the retired key, the old checkpoint cannot be checked, and says so
        only_new = {key_id(new): new}
        report = verify_trail(session, only_new)
    failures = [f for f in report.findings if f.verdict is Verdict.fail]
    assert [f.problem for f in failures] == ["signature"]
    assert "--public-key" in failures[0].detail


def test_a_transaction_that_rolls_back_leaves_no_entry(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 2)
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        record(session, READER, "person.read", "person", ["person:9"])
        raise RuntimeError("the request failed")
    _append(sessions, 1)
    assert [entry.seq for entry in _entries(sessions)] == [0, 1, 2]
    with sessions() as session:
        assert session.execute(text("SELECT size FROM trail_head")).scalar_one() == 3
