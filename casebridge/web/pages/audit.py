"""The audit pages: the access trail with filters and its verification, for auditors
(``read_trail``); the break-glass flags and their reviews, for supervisors (``review_flags``).
docs/pages.md, "Audit".

They read through the same functions as the trail API (:mod:`casebridge.web.auditing`), so
each read is itself a trail entry, exactly as the API's; the exports are the API's own
(``/api/trail/export``), linked with the filters in use. Nothing here changes an entry: a
supervisor's review is a new row and a new entry.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from casebridge.web import auditing
from casebridge.web.db import transaction
from casebridge.web.deps import Principal
from casebridge.web.models import FlagReview, TrailEntry
from casebridge.web.pages.casework import storable_text
from casebridge.web.pages.render import Pages, query
from casebridge.web.permissions import Permission, Requires
from casebridge.web.trail import as_utc
from casebridge.web.trail_read import (
    FlagAlreadyReviewedError,
    TrailFilter,
    TrailRequestError,
)
from casebridge.web.trail_read import review_flag as record_review
from casebridge.web.trail_verify import Verdict

router = APIRouter(include_in_schema=False)
Auditor = Annotated[Principal, Depends(Requires(Permission.READ_TRAIL))]
Supervisor = Annotated[Principal, Depends(Requires(Permission.REVIEW_FLAGS))]
BIGINT = 2**63 - 1
PAGE_SIZE = 50
OUTCOME_LIMIT = 4000
TRAIL_FIELDS = ("account_id", "action", "subject_id", "date_from", "date_to", "flagged")
REVIEWED_CHOICES = {"": "All flags", "no": "Not reviewed yet", "yes": "Reviewed"}


def _pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


@contextmanager
def _store(request: Request) -> Iterator[Session]:
    with transaction(request.app.state.sessions) as db:
        yield db


@dataclass(frozen=True)
class EntryRow:
    """A trail entry as a page shows it: ids only, as stored."""

    seq: int
    at: dt.datetime
    account_id: int | None
    action: str
    subject_kind: str | None
    subject_ids: list[str]
    reason: str | None
    remote_addr: str | None
    flagged: bool

    @classmethod
    def of(cls, entry: TrailEntry) -> EntryRow:
        return cls(
            seq=entry.seq,
            at=as_utc(entry.at),
            account_id=entry.account_id,
            action=entry.action,
            subject_kind=entry.subject_kind,
            subject_ids=list(json.loads(entry.subject_ids)),
            reason=entry.reason,
            remote_addr=entry.remote_addr,
            flagged=entry.flagged,
        )


@dataclass(frozen=True)
class ReviewRow:
    """A supervisor's review of a flagged entry: by whom, when, what they concluded."""

    account_id: int
    outcome: str
    at: dt.datetime

    @classmethod
    def of(cls, review: FlagReview | None) -> ReviewRow | None:
        if review is None:
            return None
        return cls(review.account_id, review.outcome, as_utc(review.at))


# ---- the trail ---------------------------------------------------------------------------


def _is_account(text: str) -> bool:
    return text.isdigit() and int(text) <= BIGINT


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _is_text(limit: int) -> Callable[[str], bool]:
    return lambda text: len(text) <= limit and storable_text(text)


CHECKS: dict[str, Callable[[str], bool]] = {
    "account_id": _is_account,
    "action": _is_text(80),
    "subject_id": _is_text(200),
    "date_from": _is_date,
    "date_to": _is_date,
    "flagged": lambda text: text == "yes",
}
FIELD_WORDS = {
    "account_id": "account",
    "action": "action",
    "subject_id": "object id",
    "date_from": "from",
    "date_to": "to",
    "flagged": "flagged only",
    "page": "page",
}


@dataclass
class TrailForm:
    """The trail's filters as the GET form sent them: blanks are no filter; a value that does
    not parse is dropped and named in ``problems``, never echoed."""

    values: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    page: int = 1

    @classmethod
    def read(cls, given: Mapping[str, str]) -> TrailForm:
        form = cls()
        for name in TRAIL_FIELDS:
            value = str(given.get(name, "")).strip()[:400]
            if not value:
                continue
            if CHECKS[name](value):
                form.values[name] = value
            else:
                form.problems.append(FIELD_WORDS[name])
        page = str(given.get("page", "1")).strip()
        if page.isdigit() and 1 <= int(page) <= 1_000_000:
            form.page = int(page)
        else:
            form.problems.append(FIELD_WORDS["page"])
        return form

    def chosen(self) -> TrailFilter:
        """The filter the trail's reads take: dates are whole UTC days, both inclusive."""
        v = self.values
        return TrailFilter(
            account_id=int(v["account_id"]) if "account_id" in v else None,
            action=v.get("action"),
            subject_id=v.get("subject_id"),
            flagged=True if "flagged" in v else None,
            since=self._day(v.get("date_from"), 0),
            until=self._day(v.get("date_to"), 1),
        )

    @staticmethod
    def _day(text: str | None, after: int) -> dt.datetime | None:
        if text is None:
            return None
        day = dt.date.fromisoformat(text) + dt.timedelta(days=after)
        return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)

    def link(self, **changes: object) -> str:
        """The trail page's URL with these filters changed (None removes one)."""
        values: dict[str, object] = {**self.values, **changes}
        encoded = query(**values)
        return f"/audit/trail?{encoded}" if encoded else "/audit/trail"

    def export_link(self, form: str) -> str:
        """The API's export of every entry these filters select, as ``form`` (csv, json)."""
        wanted = self.chosen()
        values: dict[str, object] = {
            "format": form,
            "account_id": wanted.account_id,
            "action": wanted.action,
            "subject_id": wanted.subject_id,
            "flagged": "true" if wanted.flagged else None,
            "since": wanted.since.isoformat() if wanted.since else None,
            "until": wanted.until.isoformat() if wanted.until else None,
        }
        kept = {k: v for k, v in values.items() if v is not None}
        return "/api/trail/export?" + urlencode(kept)


@router.get("/audit/trail")
def trail_page(request: Request, principal: Auditor) -> Response:
    """The trail, oldest first, filtered, 50 entries a page; reading it is an entry too."""
    form = TrailForm.read(request.query_params)
    with _store(request) as db:
        found, total = auditing.read_entries(db, principal, form.chosen(), form.page, PAGE_SIZE)
        rows = [EntryRow.of(entry) for entry in found]
    return _pages(request).render(
        request,
        "audit_trail.html",
        {
            "form": form,
            "rows": rows,
            "total": total,
            "last_page": max(1, -(-total // PAGE_SIZE)),
            "words": FIELD_WORDS,
        },
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT if form.problems else 200,
    )


@router.get("/audit/verify")
def verify_page(request: Request, principal: Auditor) -> Response:
    """What ``casebridge trail verify`` finds, with the service's own keys."""
    with _store(request) as db:
        report = auditing.verify(db, principal, request.app.state.settings.workspace)
    failures = [f for f in report.findings if f.verdict is Verdict.fail]
    return _pages(request).render(
        request,
        "audit_verify.html",
        {"report": report, "failures": failures, "root": report.root.hex()},
    )


# ---- the break-glass flags ---------------------------------------------------------------


def _flags_page(
    request: Request,
    principal: Principal,
    message: str | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    chosen = request.query_params.get("reviewed", "")
    chosen = chosen if chosen in REVIEWED_CHOICES else ""
    reviewed = {"": None, "yes": True, "no": False}[chosen]
    with _store(request) as db:
        found = auditing.read_flags(db, principal, reviewed, request.app.state.snapshots)
        flags = [(EntryRow.of(entry), ReviewRow.of(review)) for entry, review in found]
    return _pages(request).render(
        request,
        "audit_flags.html",
        {
            "flags": flags,
            "reviewed": chosen,
            "choices": REVIEWED_CHOICES,
            "me_id": principal.account_id,
            "message": message,
            "done": request.query_params.get("done") == "reviewed" and message is None,
        },
        status_code=status_code,
    )


@router.get("/flags")
def flags_page(request: Request, principal: Supervisor) -> Response:
    """Break-glass reads by colleagues in the supervisor's agencies, about what the supervisor
    may see, each with its review or a form for one."""
    return _flags_page(request, principal)


@router.post("/flags/{seq}/review")
def review_flag(
    request: Request,
    principal: Supervisor,
    seq: Annotated[int, Path(ge=0, le=BIGINT)],
    outcome: Annotated[str, Form(max_length=OUTCOME_LIMIT)],
) -> Response:
    """Record the review of flagged entry ``seq`` (once per entry; itself an entry)."""
    said = outcome.strip()
    if not said or not storable_text(said.replace("\n", " ").replace("\r", " ")):
        message = "Say what you concluded about the flagged access, then record it."
        return _flags_page(request, principal, message, status.HTTP_422_UNPROCESSABLE_CONTENT)
    try:
        with _store(request) as db:
            _review(db, principal, seq, said, request)
    except TrailRequestError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such flag") from None
    except FlagAlreadyReviewedError as error:
        return _flags_page(request, principal, str(error), status.HTTP_409_CONFLICT)
    return RedirectResponse("/flags?done=reviewed", status_code=status.HTTP_303_SEE_OTHER)


def _review(db: Session, principal: Principal, seq: int, outcome: str, request: Request) -> None:
    shown = auditing.scope_verdict(request.app.state.snapshots, principal)
    record_review(db, principal, seq, outcome, shown)
