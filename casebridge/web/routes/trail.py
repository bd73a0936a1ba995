"""The access trail for auditors (read, export, verify, proofs) and supervisors (flagged
break-glass entries and their reviews).

There is no route that changes or deletes an entry, for anyone. Every read of the trail is
itself an entry ("trail.read", "trail.export", ...), written in the same transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    status,
)
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from casebridge.web.access import subjects_shown
from casebridge.web.auth.text import StorableText
from casebridge.web.checkpoints import (
    install,
    key_id,
    key_path,
    note_verifier_key,
    public_pem,
    stored,
    trusted_keys,
)
from casebridge.web.config import ServiceSettings
from casebridge.web.db import transaction
from casebridge.web.deps import Principal
from casebridge.web.models import FlagReview, TrailCheckpoint, TrailEntry
from casebridge.web.permissions import Permission, Requires
from casebridge.web.services.exports import neutralise_cell
from casebridge.web.snapshot import NoSnapshotError, SnapshotStore
from casebridge.web.trail import canonical_time, record
from casebridge.web.trail_read import (
    FlagAlreadyReviewedError,
    Shown,
    TrailFilter,
    TrailRequestError,
    consistency_proof,
    entry_page,
    flagged_entries,
    inclusion_proof,
    matching_entries,
    review_flag,
    seq_ids,
)
from casebridge.web.trail_verify import verify_trail

PREFIX = "/api/trail"
# the operational store's ids and entry numbers are 64-bit: a larger one names nothing, and
# must not reach the database (SQLite and PostgreSQL refuse it with an error, not "none")
BIGINT = 2**63 - 1
router = APIRouter(prefix=PREFIX, tags=["trail"])
Auditor = Annotated[Principal, Depends(Requires(Permission.READ_TRAIL))]
Supervisor = Annotated[Principal, Depends(Requires(Permission.REVIEW_FLAGS))]


def mount_trail(app: FastAPI, settings: ServiceSettings) -> None:
    """Serve the trail's routes, and sign checkpoints as the settings say."""
    install(app.state.sessions, settings)
    app.include_router(router)


@contextmanager
def _unit_of_work(request: Request) -> Iterator[Session]:
    with transaction(request.app.state.sessions) as session:
        yield session


class EntryOut(BaseModel):
    """One trail entry as stored: ids only, never names."""

    seq: int
    at: str = Field(description="UTC, to the microsecond, as the entry's hash covers it")
    account_id: int | None
    action: str
    subject_kind: str | None
    subject_ids: list[str]
    reason: str | None
    remote_addr: str | None
    flagged: bool
    prev_hash: str
    entry_hash: str

    @classmethod
    def of(cls, entry: TrailEntry) -> EntryOut:
        """The entry as the API gives it."""
        return cls(
            seq=entry.seq,
            at=canonical_time(entry.at),
            account_id=entry.account_id,
            action=entry.action,
            subject_kind=entry.subject_kind,
            subject_ids=json.loads(entry.subject_ids),
            reason=entry.reason,
            remote_addr=entry.remote_addr,
            flagged=entry.flagged,
            prev_hash=entry.prev_hash,
            entry_hash=entry.entry_hash,
        )


class EntryPage(BaseModel):
    """A page of entries, and how many match in all."""

    total: int
    page: int
    page_size: int
    entries: list[EntryOut]


def trail_filter(
    account_id: Annotated[
        int | None, Query(ge=0, le=BIGINT, description="Entries by this account.")
    ] = None,
    action: Annotated[
        StorableText | None, Query(max_length=80, description="e.g. person.read")
    ] = None,
    subject_kind: Annotated[StorableText | None, Query(max_length=40)] = None,
    subject_id: Annotated[
        StorableText | None, Query(max_length=200, description="Entries that name this id.")
    ] = None,
    flagged: Annotated[bool | None, Query(description="Break-glass entries only.")] = None,
    since: Annotated[dt.datetime | None, Query(description="From this time (ISO 8601).")] = None,
    until: Annotated[dt.datetime | None, Query(description="Before this time (ISO 8601).")] = None,
) -> TrailFilter:
    """The filter an auditor gives in the query string."""
    return TrailFilter(account_id, action, subject_kind, subject_id, flagged, since, until)


Filter = Annotated[TrailFilter, Depends(trail_filter)]


@router.get("/entries")
def list_entries(
    request: Request,
    principal: Auditor,
    wanted: Filter,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> EntryPage:
    """Entries that match the filter, oldest first, a page at a time."""
    with _unit_of_work(request) as session:
        entries, total = entry_page(session, wanted, page, page_size)
        shown = [EntryOut.of(entry) for entry in entries]
        record(session, principal, "trail.read", "trail_entry", seq_ids(entries))
    return EntryPage(total=total, page=page, page_size=page_size, entries=shown)


class ExportFormat(enum.StrEnum):
    """How the trail is exported."""

    csv = "csv"
    json = "json"


EXPORT_COLUMNS = list(EntryOut.model_fields)


@router.get("/export", response_class=Response)
def export_entries(
    request: Request,
    principal: Auditor,
    wanted: Filter,
    form: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.csv,
) -> Response:
    """Every entry that matches, as CSV or JSON, for an auditor to keep."""
    with _unit_of_work(request) as session:
        entries = [EntryOut.of(entry) for entry in matching_entries(session, wanted)]
        record(session, principal, "trail.export", "trail", [])
    if form is ExportFormat.json:
        body = json.dumps([entry.model_dump() for entry in entries], indent=1)
        return _download(body, "application/json", "trail.json")
    return _download(_csv(entries), "text/csv; charset=utf-8", "trail.csv")


def _csv(entries: list[EntryOut]) -> str:
    """The entries as CSV, every cell neutralised against formula injection (a reason is free
    text and a spreadsheet opens the file; the JSON export keeps each value as stored)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for entry in entries:
        values = entry.model_dump()
        values["subject_ids"] = json.dumps(values["subject_ids"])
        writer.writerow(
            "" if values[name] is None else neutralise_cell(str(values[name]))
            for name in EXPORT_COLUMNS
        )
    return buffer.getvalue()


def _download(body: str, media_type: str, name: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media_type, headers=headers)


class FindingOut(BaseModel):
    """One line of the verification."""

    verdict: str
    problem: str
    where: str
    detail: str


class VerifyOut(BaseModel):
    """The verification ``casebridge trail verify`` gives, with the service's own keys."""

    failed: bool
    size: int
    root_hash: str
    findings: list[FindingOut]


@router.get("/verify")
def verify(request: Request, principal: Auditor) -> VerifyOut:
    """Recompute the chain and the Merkle roots and check every stored checkpoint."""
    keys = trusted_keys(key_path(request.app.state.settings.workspace))
    with _unit_of_work(request) as session:
        report = verify_trail(session, keys)
        record(session, principal, "trail.verify", "trail", [])
    findings = [FindingOut(**vars(finding)) for finding in report.findings]
    return VerifyOut(
        failed=report.failed, size=report.size, root_hash=report.root.hex(), findings=findings
    )


class CheckpointOut(BaseModel):
    """A stored checkpoint, and its signed note when its key is known here."""

    id: int
    tree_size: int
    root_hash: str
    at: str
    key_id: str
    signature: str
    note: str | None


@router.get("/checkpoints")
def list_checkpoints(request: Request, principal: Auditor) -> list[CheckpointOut]:
    """Every stored checkpoint, oldest first."""
    keys = trusted_keys(key_path(request.app.state.settings.workspace))
    with _unit_of_work(request) as session:
        rows = list(session.scalars(select(TrailCheckpoint).order_by(TrailCheckpoint.id)))
        record(session, principal, "trail.read_checkpoints", "trail_checkpoint", [])
    return [_checkpoint_out(row, keys) for row in rows]


def _checkpoint_out(row: TrailCheckpoint, keys: dict[str, Ed25519PublicKey]) -> CheckpointOut:
    checkpoint = stored(row)
    public = keys.get(row.key_id)
    note = checkpoint.note(public) if public is not None else None
    return CheckpointOut(
        id=row.id,
        tree_size=row.tree_size,
        root_hash=row.root_hash,
        at=checkpoint.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        key_id=row.key_id,
        signature=row.signature,
        note=note,
    )


class PublicKeyOut(BaseModel):
    """A key checkpoints are signed with: current or retired."""

    key_id: str
    pem: str
    note_verifier_key: str


@router.get("/public-keys")
def public_keys(request: Request, principal: Auditor) -> list[PublicKeyOut]:
    """The public keys of the trail's checkpoints (compare them with copies kept elsewhere)."""
    keys = trusted_keys(key_path(request.app.state.settings.workspace))
    return [
        PublicKeyOut(
            key_id=key_id(key), pem=public_pem(key), note_verifier_key=note_verifier_key(key)
        )
        for key in keys.values()
    ]


class InclusionOut(BaseModel):
    """RFC 9162's inclusion proof for one entry (hashes in hex)."""

    seq: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    proof: list[str]


@router.get("/proofs/inclusion")
def prove_inclusion(
    request: Request,
    principal: Auditor,
    seq: Annotated[int, Query(ge=0)],
    tree_size: Annotated[int | None, Query(ge=1)] = None,
) -> InclusionOut:
    """That entry ``seq`` is in the tree of ``tree_size`` entries (default: the whole trail)."""
    with _unit_of_work(request) as session:
        try:
            found = inclusion_proof(session, seq, tree_size)
        except TrailRequestError as error:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
        record(session, principal, "trail.prove", "trail_entry", [str(seq)])
    return InclusionOut(
        seq=found.seq,
        tree_size=found.tree_size,
        leaf_hash=found.leaf_hash.hex(),
        root_hash=found.root.hex(),
        proof=[node.hex() for node in found.proof],
    )


class ConsistencyOut(BaseModel):
    """RFC 9162's consistency proof between two sizes of the trail (hashes in hex)."""

    first: int
    second: int
    first_root_hash: str
    second_root_hash: str
    proof: list[str]


@router.get("/proofs/consistency")
def prove_consistency(
    request: Request,
    principal: Auditor,
    first: Annotated[int, Query(ge=0)],
    second: Annotated[int | None, Query(ge=0)] = None,
) -> ConsistencyOut:
    """That the trail of ``first`` entries is a prefix of that of ``second`` (default: now)."""
    with _unit_of_work(request) as session:
        try:
            found = consistency_proof(session, first, second)
        except TrailRequestError as error:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
        record(session, principal, "trail.prove", "trail", [])
    return ConsistencyOut(
        first=found.first,
        second=found.second,
        first_root_hash=found.first_root.hex(),
        second_root_hash=found.second_root.hex(),
        proof=[node.hex() for node in found.proof],
    )


class FlagReviewOut(BaseModel):
    """A supervisor's review of a flagged entry."""

    account_id: int
    outcome: str
    at: str


class FlaggedOut(BaseModel):
    """A flagged (break-glass) entry and its review, if it has one."""

    entry: EntryOut
    review: FlagReviewOut | None


def _review_out(review: FlagReview) -> FlagReviewOut:
    return FlagReviewOut(
        account_id=review.account_id, outcome=review.outcome, at=canonical_time(review.at)
    )


def _in_scope(request: Request, principal: Principal) -> Shown:
    """Which entries name nothing ``principal``'s scopes hide (the casework scope, read from
    the current snapshot)."""

    def shown(entries: Sequence[TrailEntry]) -> set[int]:
        subjects = [(e.subject_kind, list(json.loads(e.subject_ids))) for e in entries]
        store: SnapshotStore = request.app.state.snapshots
        try:
            with store.reading() as reader:
                verdicts = subjects_shown(principal, reader, subjects)
        except NoSnapshotError:  # nothing published: no casework id names anything yet
            verdicts = [True for _ in subjects]
        return {entry.seq for entry, ok in zip(entries, verdicts, strict=True) if ok}

    return shown


@router.get("/flags")
def list_flags(
    request: Request,
    principal: Supervisor,
    reviewed: Annotated[bool | None, Query(description="Only reviewed, or only not.")] = None,
) -> list[FlaggedOut]:
    """Break-glass entries by accounts in the supervisor's agencies about what the supervisor's
    scopes show, oldest first."""
    with _unit_of_work(request) as session:
        found = flagged_entries(session, principal, reviewed, _in_scope(request, principal))
        shown = [
            FlaggedOut(entry=EntryOut.of(entry), review=None if r is None else _review_out(r))
            for entry, r in found
        ]
        record(
            session, principal, "trail.read_flags", "trail_entry", [str(e.seq) for e, _ in found]
        )
    return shown


class FlagReviewIn(BaseModel):
    """What the supervisor concluded about a flagged entry."""

    outcome: str = Field(min_length=1, max_length=4000)


@router.post("/flags/{seq}/review", status_code=status.HTTP_201_CREATED)
def review(
    request: Request,
    principal: Supervisor,
    seq: Annotated[int, Path(ge=0, le=BIGINT)],
    given: FlagReviewIn,
) -> FlagReviewOut:
    """Record the review of flagged entry ``seq`` (itself a trail entry); once per entry."""
    with _unit_of_work(request) as session:
        try:
            made = review_flag(
                session, principal, seq, given.outcome, _in_scope(request, principal)
            )
        except TrailRequestError as error:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
        except FlagAlreadyReviewedError as error:
            raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
        return _review_out(made)
