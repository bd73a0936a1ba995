"""Published snapshots: the pipeline's results as the service reads them, never the live database.

DuckDB lets one process write a database file, and nobody read it meanwhile. So after every
command that changes results the pipeline *publishes*: it copies the closed database (and the
trained model) into ``snapshots/<NNNNNN>/`` and switches ``snapshots/CURRENT`` to name it, by
writing ``CURRENT.tmp`` and renaming it over ``CURRENT`` (an atomic step on POSIX and Windows).
The newest :data:`KEEP` snapshots stay; older ones are deleted (a reader that still holds one
open keeps reading it: POSIX removes a file only once the last holder closes it).

The service reads through a :class:`SnapshotStore`: one read-only DuckDB connection to the
current snapshot, and a cursor of it for each request (DuckDB connections are not safe to
share between threads; cursors are). The store looks at ``CURRENT`` at most every
``check_seconds``; when it names a new snapshot, new requests read the new one while requests
in flight finish on the old one, which is closed when the last of them ends.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from casebridge.engine import Engine
from casebridge.errors import CasebridgeError
from casebridge.link.saved import MODEL_FILE
from casebridge.web.services.scope import SCOPE_TABLES
from casebridge.workspace import (
    OWNER_ONLY_FILE,
    OWNER_ONLY_FOLDER,
    SETTINGS_FILE,
    Settings,
    open_workspace,
)

logger = logging.getLogger(__name__)

SNAPSHOTS = "snapshots"
CURRENT = "CURRENT"
DATABASE = "casebridge.duckdb"
MODEL = "linkage_model.json"
ABOUT = "published.json"
# the current snapshot and two before it: a request in flight on the one before never loses it
KEEP = 3
# the columns the service looks things up by: indexed in each snapshot (the copy, never the
# workspace's database), so a request for one id probes an index instead of scanning the table
LOOKUPS = (
    ("person", "person_id"), ("person_record", "record_id"), ("person_link", "record_id"),
    ("person_link", "person_id"), ("person_observation", "record_id"),
    ("involvement", "record_id"), ("involvement", "event_id"), ("event", "event_id"),
    ("identifier", "record_id"), ("match_pair", "record_l"), ("match_pair", "record_r"),
    ("review_item", "item_id"), ("review_item", "event_id"), ("review_item", "person_id"),
    ("review_reason", "item_id"), ("review_evidence", "item_id"), ("network", "network_id"),
    ("network_member", "network_id"), ("network_member", "person_id"),
    ("network_edge", "network_id"), ("cb_scope_person", "person_id"),
    ("cb_scope_record", "record_id"), ("cb_scope_event", "event_id"),
    ("cb_scope_item", "item_id"), ("cb_scope_network", "network_id"),
)  # fmt: skip
CHECK_SECONDS = 1.0
PARAMETER = re.compile(r"\$([a-z_]+)")


class SnapshotError(CasebridgeError):
    """A snapshot cannot be published, or the service has none to read."""


class NoSnapshotError(SnapshotError):
    """The workspace has no published snapshot yet."""


def snapshots_folder(workspace: Path) -> Path:
    """Where a workspace's snapshots live."""
    return workspace / SNAPSHOTS


def current_name(workspace: Path) -> str | None:
    """The name ``CURRENT`` holds, or None before the first publish."""
    try:
        name = (snapshots_folder(workspace) / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def publish_snapshot(workspace: Path) -> str | None:
    """Copy the workspace's database (closed by its writer) into a new snapshot and make it the
    current one; return its name, or None when the workspace has no database yet.

    Example::

        link(workspace)                      # the writer's connection is closed on return
        publish_snapshot(workspace.root)     # '000007'
    """
    database = _database_of(workspace)
    if not database.is_file():
        return None
    folder = snapshots_folder(workspace)
    try:
        folder.mkdir(mode=OWNER_ONLY_FOLDER, exist_ok=True)
        target = _claim_folder(folder)
        _copy_database(database, target)
        _prepare_copy(target / DATABASE)
        _copy_model(workspace, target)
        _write_about(target)
        _point_at(folder, target.name)
    except OSError as exc:
        raise SnapshotError(
            f"the results are written but could not be published to {folder} "
            f"({exc.strerror}); free some space or fix its permissions and run the command again"
        ) from None
    except duckdb.Error:
        raise SnapshotError(
            f"the results are written but their copy in {folder} could not be indexed; "
            "free some space and run the command again"
        ) from None
    _prune(folder, keep=KEEP)
    logger.info("published snapshot %s", target.name)
    return target.name


def _database_of(workspace: Path) -> Path:
    """The workspace's database file, as casebridge.toml names it (default when unreadable)."""
    if (workspace / SETTINGS_FILE).is_file():
        return open_workspace(workspace).database
    return workspace / Settings().database


def _claim_folder(folder: Path) -> Path:
    """A new, numbered snapshot folder; made with mkdir, so two publishers never share one."""
    numbers = [int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit()]
    number = max(numbers, default=0) + 1
    while True:
        target = folder / f"{number:06d}"
        try:
            target.mkdir(mode=OWNER_ONLY_FOLDER)
        except FileExistsError:
            number += 1
            continue
        target.chmod(OWNER_ONLY_FOLDER)
        return target


def _copy_database(database: Path, target: Path) -> None:
    """Copy the database while a read-only connection holds it, so no writer can start
    halfway through the copy (a writer that tries is told the workspace is in use)."""
    try:
        holder = Engine(database, read_only=True)
    except (duckdb.Error, CasebridgeError):
        raise SnapshotError(
            "the workspace database is in use by a writer; publish once it has finished"
        ) from None
    try:
        for suffix in ("", ".wal"):
            source = database.with_name(database.name + suffix)
            if source.is_file():
                _copy_file(source, target / (DATABASE + suffix))
    finally:
        holder.close()


def _prepare_copy(copy: Path) -> None:
    """Add the agency scope's tables to the copy (``services/scope.py``, those whose tables it
    has) and index its :data:`LOOKUPS`, then flush it to disk."""
    connection = duckdb.connect(str(copy))
    try:
        for name, needs, query in SCOPE_TABLES:
            if set(needs) <= _tables(connection):
                connection.execute(f'CREATE OR REPLACE TABLE "{name}" AS {query}')
        present = {
            (str(table), str(column))
            for table, column in connection.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'main'"
            ).fetchall()
        }
        for table, column in LOOKUPS:
            if (table, column) in present:
                connection.execute(
                    f'CREATE INDEX IF NOT EXISTS "cb_{table}_{column}" ON "{table}" ("{column}")'
                )
        connection.execute("CHECKPOINT")
    finally:
        connection.close()
    copy.chmod(OWNER_ONLY_FILE)
    _flush(copy)


def _tables(connection: duckdb.DuckDBPyConnection) -> set[str]:
    rows = connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    return {str(row[0]) for row in rows}


def _copy_file(source: Path, target: Path) -> None:
    """Copy to a partial name, flushed to disk, then rename into place, owner-only."""
    partial = target.with_name(target.name + ".partial")
    os.close(os.open(partial, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, OWNER_ONLY_FILE))
    shutil.copyfile(source, partial)
    partial.chmod(OWNER_ONLY_FILE)
    _flush(partial)
    os.replace(partial, target)


def _flush(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _copy_model(workspace: Path, target: Path) -> None:
    """The trained model beside the database: a pair's weights are explained with it."""
    model = workspace / MODEL_FILE
    if model.is_file():
        _copy_file(model, target / MODEL)


def _write_about(target: Path) -> None:
    about = {"name": target.name, "published_at": dt.datetime.now(dt.UTC).isoformat()}
    _write_small(target / ABOUT, json.dumps(about))


def _write_small(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".tmp")
    descriptor = os.open(partial, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, OWNER_ONLY_FILE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def _point_at(folder: Path, name: str) -> None:
    """Switch ``CURRENT`` to ``name`` in one rename: a reader sees the old name or the new."""
    _write_small(folder / CURRENT, name + "\n")


def _prune(folder: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` snapshots (never the current one); a snapshot that
    cannot be deleted now (held open on Windows) is left for the next publish."""
    current = current_name(folder.parent)
    numbered = sorted(p for p in folder.iterdir() if p.is_dir() and p.name.isdigit())
    for old in numbered[:-keep]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)


def ensure_snapshot(workspace: Path) -> str | None:
    """Publish a snapshot for a workspace that has a database but none yet (one run by an older
    casebridge), or whose current snapshot lacks the agency scope's tables (published by an
    older casebridge); nothing when a writer holds the database now."""
    name = current_name(workspace)
    if name is not None and _prepared(snapshots_folder(workspace) / name / DATABASE):
        return name
    try:
        return publish_snapshot(workspace)
    except CasebridgeError:
        logger.warning("no current snapshot published yet and the workspace is in use")
        return name


def _prepared(database: Path) -> bool:
    """Whether a snapshot has its scope tables (or has no persons to scope yet)."""
    try:
        connection = duckdb.connect(str(database), read_only=True)
    except duckdb.Error:
        return False
    try:
        tables = _tables(connection)
    finally:
        connection.close()
    return "cb_scope_person" in tables or "person_link" not in tables


@dataclass
class Snapshot:
    """One published snapshot, opened read-only, with the requests reading it counted."""

    name: str
    folder: Path
    connection: duckdb.DuckDBPyConnection
    model: dict[str, Any] | None
    published_at: str | None
    tables: frozenset[str]
    leases: int = 0
    retired: bool = False

    def close(self) -> None:
        with suppress(duckdb.Error):
            self.connection.close()


def open_snapshot(folder: Path) -> Snapshot:
    """Open the snapshot in ``folder`` read-only, with its model and its list of tables."""
    connection = duckdb.connect(str(folder / DATABASE), read_only=True)
    # one thread a query: a request's queries are small lookups, and requests run side by side
    # (a query split over threads pays more in handing work over than it saves)
    connection.execute("SET threads = 1")
    tables = frozenset(
        row[0]
        for row in connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    )
    model_path = folder / MODEL
    model = json.loads(model_path.read_text(encoding="utf-8")) if model_path.is_file() else None
    about_path = folder / ABOUT
    about = json.loads(about_path.read_text(encoding="utf-8")) if about_path.is_file() else {}
    return Snapshot(folder.name, folder, connection, model, about.get("published_at"), tables)


class SnapshotReader(Engine):
    """One request's view of a snapshot: a cursor of its connection, with the Engine methods
    the pipeline's own readers (link/explain.py, networks/export.py) expect."""

    def __init__(self, snapshot: Snapshot, cursor: duckdb.DuckDBPyConnection) -> None:
        self.connection = cursor
        self.read_only = True
        self.statements = []
        self._depth = 0
        self.snapshot = snapshot

    def has(self, *tables: str) -> bool:
        """Whether the snapshot holds every one of ``tables``."""
        return set(tables) <= self.snapshot.tables

    def dicts(self, sql: str, params: dict[str, object] | None = None) -> list[dict[str, Any]]:
        """Run a query with named parameters (``$name``); its rows as dicts. Parameters the
        query does not name are left out (DuckDB refuses them)."""
        named = set(PARAMETER.findall(sql))
        given = {name: value for name, value in (params or {}).items() if name in named}
        result = self.connection.execute(sql, given)
        names = [column[0] for column in result.description or ()]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


@dataclass
class SnapshotStore:
    """The current snapshot of one workspace, switched atomically when a new one is published."""

    workspace: Path
    check_seconds: float = CHECK_SECONDS
    _current: Snapshot | None = field(default=None, init=False)
    _checked_at: float = field(default=float("-inf"), init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _opening: bool = field(default=False, init=False)

    @contextmanager
    def reading(self) -> Iterator[SnapshotReader]:
        """A cursor of the current snapshot for one request; the snapshot stays open until
        the block ends, even when a newer one is published meanwhile."""
        snapshot, cursor = self._lease()
        try:
            yield SnapshotReader(snapshot, cursor)
        finally:
            with suppress(duckdb.Error):
                cursor.close()
            self._release(snapshot)

    def _lease(self) -> tuple[Snapshot, duckdb.DuckDBPyConnection]:
        self._refresh()
        with self._lock:
            snapshot = self._current
            if snapshot is None:
                raise NoSnapshotError(
                    "no results are published yet: run 'casebridge run' on the workspace"
                )
            snapshot.leases += 1
            return snapshot, snapshot.connection.cursor()

    def _release(self, snapshot: Snapshot) -> None:
        with self._lock:
            snapshot.leases -= 1
            if snapshot.retired and snapshot.leases == 0:
                snapshot.close()

    def _refresh(self) -> None:
        """Switch to the snapshot ``CURRENT`` names, if it changed. Opening one takes a while
        (a large database, its indexes): the request that finds it opens it while the others go
        on reading the one before, so a publish never stalls the service. (With none open yet,
        every request waits for the first.)"""
        with self._lock:
            now = time.monotonic()
            if self._current is not None and (
                self._opening or now - self._checked_at < self.check_seconds
            ):
                return
            self._checked_at = now
            name = current_name(self.workspace)
            if name is None or (self._current is not None and self._current.name == name):
                return
            if self._current is None:
                self._switch_to(self._open(name))
                return
            self._opening = True
        try:
            fresh = self._open(name)
        finally:
            with self._lock:
                self._opening = False
                self._switch_to(fresh)

    def _open(self, name: str) -> Snapshot | None:
        try:
            return open_snapshot(snapshots_folder(self.workspace) / name)
        except (duckdb.Error, OSError, ValueError):
            logger.warning("snapshot %s could not be opened; still serving the one before", name)
            return None

    def _switch_to(self, fresh: Snapshot | None) -> None:
        """Make ``fresh`` current, retiring the one before (called under the lock)."""
        if fresh is None:
            return
        old, self._current = self._current, fresh
        if old is not None:
            old.retired = True
            if old.leases == 0:
                old.close()

    def current(self) -> Snapshot | None:
        """The snapshot new requests read (after a check of ``CURRENT``)."""
        self._refresh()
        with self._lock:
            return self._current

    def close(self) -> None:
        """Close the current snapshot (when the service stops)."""
        with self._lock:
            if self._current is not None:
                self._current.retired = True
                if self._current.leases == 0:
                    self._current.close()
                self._current = None
