"""What ``casebridge trail ...`` does: verify, export, sign a checkpoint, show or rotate the key.

Each command opens the service's database as the service would find it: the one
``CASEBRIDGE_DATABASE_URL`` names, or else ``W/service.sqlite``. Verifying and exporting only
read; signing a checkpoint and rotating the key write (in one transaction each).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from casebridge.errors import CasebridgeError
from casebridge.output import Column, Result
from casebridge.web.checkpoints import (
    Checkpoint,
    CheckpointFormatError,
    checkpoint_now,
    key_id,
    key_path,
    load_signing_key,
    note_verifier_key,
    read_note,
    rotate_key,
    signing_key,
    stored,
    trusted_keys,
)
from casebridge.web.config import DATABASE_URL_VARIABLE, settings_for
from casebridge.web.db import make_engine, migrate, session_factory, transaction
from casebridge.web.trail import canonical_time
from casebridge.web.trail_verify import (
    OutsideCheckpoint,
    StoredEntry,
    TrailReport,
    read_entries,
    verify_trail,
)


class TrailDatabaseError(CasebridgeError):
    """Raised when the service's database is missing or holds no access trail."""


@contextlib.contextmanager
def trail_sessions(workspace: Path, writing: bool = False) -> Iterator[sessionmaker[Session]]:
    """Sessions on the service database of ``workspace`` (migrated first when ``writing``)."""
    url = settings_for(workspace).database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        raise TrailDatabaseError(
            f"no service database in {workspace}; start 'casebridge serve' there once, or name "
            f"the database in {DATABASE_URL_VARIABLE}"
        )
    engine = make_engine(url)
    try:
        if writing:
            migrate(engine)
        elif not inspect(engine).has_table("trail_entry"):
            raise TrailDatabaseError(
                f"the database {DATABASE_URL_VARIABLE} names holds no access trail; check the URL"
            )
        yield session_factory(engine)
    finally:
        engine.dispose()


def verify_workspace(
    workspace: Path, public_keys: Sequence[Path] = (), checkpoint_files: Sequence[Path] = ()
) -> TrailReport:
    """Verify the trail with the given public keys (else the workspace's own keys) and the
    checkpoints kept in the given files."""
    keys = trusted_keys(key_path(workspace), public_keys)
    outside = [
        OutsideCheckpoint(str(file), read_note(_read(file), str(file))) for file in checkpoint_files
    ]
    with trail_sessions(workspace) as sessions, sessions() as session:
        return verify_trail(session, keys, outside)


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise CheckpointFormatError(
            f"cannot read the checkpoint file {file}; check its path"
        ) from None


def export_entries(workspace: Path) -> list[StoredEntry]:
    """Every entry of the trail, in order."""
    with trail_sessions(workspace) as sessions, sessions() as session:
        return read_entries(session)


def checkpoint_workspace(workspace: Path) -> tuple[Checkpoint, Ed25519PublicKey]:
    """Sign and store a checkpoint of the trail now; gives it and the key's public half."""
    key = signing_key(key_path(workspace))
    with trail_sessions(workspace, writing=True) as sessions, transaction(sessions) as session:
        row = checkpoint_now(session, key)
        return stored(row), key.public_key()


def rotate_workspace_key(workspace: Path) -> tuple[Ed25519PublicKey, Ed25519PublicKey]:
    """Close the old key's era with a checkpoint, retire it, and sign one with the new key."""
    path = key_path(workspace)
    load_signing_key(path)  # a missing key is an error, not a new key
    checkpoint_workspace(workspace)
    old, new = rotate_key(path)
    checkpoint_workspace(workspace)
    return old, new


def public_key_of(workspace: Path) -> Ed25519PublicKey:
    """The public half of the workspace's signing key (made now if there is none yet)."""
    return signing_key(key_path(workspace)).public_key()


def verify_result(report: TrailReport) -> Result:
    """The findings, one line each (the table format prints them as lines)."""
    rows = [(f.verdict.value, f.problem, f.where, f.detail) for f in report.findings]
    verdict = "FAILED" if report.failed else "verified"
    summary = f"trail {verdict}: {report.size} entries, Merkle root {report.root.hex()}"
    lines = [finding.line() for finding in report.findings]
    return Result(
        name="trail_verify",
        title="access trail",
        columns=[Column("verdict"), Column("problem"), Column("where"), Column("detail")],
        rows=rows,
        sentence="\n".join([*lines, summary]),
    )


def entries_result(entries: Sequence[StoredEntry]) -> Result:
    """The trail's entries for auditors, every field as stored (times in UTC)."""
    columns = [
        Column(name)
        for name in (
            "seq",
            "at",
            "account_id",
            "action",
            "subject_kind",
            "subject_ids",
            "reason",
            "remote_addr",
            "flagged",
            "prev_hash",
            "entry_hash",
        )
    ]
    rows = [
        (
            entry.seq,
            canonical_time(entry.at),
            entry.account_id,
            entry.action,
            entry.subject_kind,
            entry.subject_ids,
            entry.reason,
            entry.remote_addr,
            entry.flagged,
            entry.prev_hash,
            entry.entry_hash,
        )
        for entry in entries
    ]
    return Result(name="trail", title="access trail", columns=columns, rows=rows)


def key_lines(public: Ed25519PublicKey) -> list[str]:
    """How to name a public key to people and to signed-note tools."""
    return [f"key id {key_id(public)}", f"signed-note verifier key {note_verifier_key(public)}"]
