"""The casework pages: the review queue, an item, and the records and events an item cites.

Every route declares its permission, as the API's do, and reads and writes through one
:class:`~casebridge.web.access.Access`, never a store: scope (outside it a thing does not
exist), masking, break glass and the trail apply to a page exactly as to the API. A page that
needs a reason (a reviewer beyond their assignments) answers with a form asking for one; the
reason comes back in a POST body, never in the URL, and opens the page with its read flagged.

Forms work without scripts (a POST, then a redirect back: post/redirect/get); htmx, where the
browser runs it, sends the same requests and swaps in the changed part of the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from casebridge.web.access import REASON_HEADER, ConflictError, ForbiddenError, InvalidError
from casebridge.web.access import Access as DataAccess
from casebridge.web.deps import Principal, current_principal
from casebridge.web.pages.render import Pages, path_of, query
from casebridge.web.permissions import Permission, Requires
from casebridge.web.services.facets import FACETS, FacetCount
from casebridge.web.services.reads import QueueFilter
from casebridge.web.services.schemas import (
    NOTE_LIMIT,
    REASON_LIMIT,
    AssignmentChange,
    NoteIn,
    StatusChange,
    storable,
)
from casebridge.web.snapshot import SnapshotStore

router = APIRouter(include_in_schema=False)

STATUSES = ("new", "in_review", "referred", "no_further_action")
STATUS_WORDS = {
    "new": "New",
    "in_review": "In review",
    "referred": "Referred for investigation",
    "no_further_action": "No further action",
}
PAGE_SIZES = (25, 50, 100)
QUEUE_FIELDS = ("rule", "priority_min", "agency", "status", "assignee", "date_from", "date_to")

ReasonField = Annotated[str, Form(max_length=REASON_LIMIT)]


def page_access(
    request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> Iterator[DataAccess]:
    """The request's access to casework, reading the current snapshot until it ends. A reason
    (break glass) comes from the ``X-Access-Reason`` header, or is set by the routes that take
    one from a form."""
    store: SnapshotStore = request.app.state.snapshots
    with store.reading() as reader:
        access = DataAccess(principal, reader, request.app.state.sessions, None)
        # a scripted client states its reason as the API's clients do, in a header
        with_reason(access, request.headers.get(REASON_HEADER, "")[:REASON_LIMIT])
        yield access


Access = Annotated[DataAccess, Depends(page_access)]


def _pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def _go(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=status.HTTP_303_SEE_OTHER)


def with_reason(access: DataAccess, reason: str) -> None:
    """Give the access the reason a form stated (break glass), if it is usable text."""
    stated = reason.strip()
    if stated:
        access.reason = storable(stated)


# ---- the queue ---------------------------------------------------------------------------


@dataclass
class QueueForm:
    """The queue's filters as the GET form sent them: blanks are no filter; a value that does
    not parse is dropped and named in ``problems``."""

    values: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    page: int = 1
    page_size: int = PAGE_SIZES[0]

    @classmethod
    def read(cls, given: Any) -> QueueForm:
        form = cls()
        for name in QUEUE_FIELDS:
            value = str(given.get(name, "")).strip()[:200]
            if value and form._valid(name, value):
                form.values[name] = value
        form.page = form._number(str(given.get("page", "1")), "page", 1, 1_000_000)
        size = form._number(str(given.get("page_size", "25")), "page size", 1, PAGE_SIZES[-1])
        form.page_size = size
        return form

    def _number(self, text: str, name: str, low: int, high: int) -> int:
        if text.isdigit() and low <= int(text) <= high:
            return int(text)
        self.problems.append(name)
        return low if name == "page" else PAGE_SIZES[0]

    def _valid(self, name: str, value: str) -> bool:
        check: Callable[[str], bool] = FILTER_CHECKS.get(name, storable_text)
        valid = check(value)
        if not valid:
            self.problems.append(name.replace("_", " "))
        return valid

    def chosen(self, me: int) -> QueueFilter:
        """The filter the data-access layer takes."""
        v = self.values
        assignee = v.get("assignee")
        return QueueFilter(
            rule=v.get("rule"),
            priority_min=float(v["priority_min"]) if "priority_min" in v else None,
            agency=v.get("agency"),
            status=v.get("status"),
            assignee_id=me if assignee == "me"
            else int(assignee) if assignee and assignee != "none" else None,
            unassigned=assignee == "none",
            date_from=dt.date.fromisoformat(v["date_from"]) if "date_from" in v else None,
            date_to=dt.date.fromisoformat(v["date_to"]) if "date_to" in v else None,
        )  # fmt: skip

    def link(self, **changes: str | int | None) -> str:
        """The queue's URL with these filters changed (None removes one); back to page 1."""
        values: dict[str, object] = {**self.values, "page_size": self.page_size}
        if self.page_size == PAGE_SIZES[0]:
            values.pop("page_size")
        values.update(changes)
        encoded = query(**values)
        return f"/queue?{encoded}" if encoded else "/queue"


def _is_number(text: str) -> bool:
    try:
        return float(text) >= 0
    except ValueError:
        return False


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def storable_text(text: str) -> bool:
    """Whether a filter's text is printable and storable (a rule id, an agency)."""
    try:
        storable(text)
    except ValueError:
        return False
    return text.isprintable()


def _is_status(text: str) -> bool:
    return text in STATUSES


def _is_assignee(text: str) -> bool:
    return text in ("me", "none") or (text.isdigit() and len(text) <= 18)


FILTER_CHECKS: dict[str, Callable[[str], bool]] = {
    "priority_min": _is_number,
    "status": _is_status,
    "assignee": _is_assignee,
    "date_from": _is_date,
    "date_to": _is_date,
}


@dataclass(frozen=True)
class Facet:
    """One facet of the queue: its name and its values with their counts and links."""

    name: str
    title: str
    values: list[tuple[str, str, int, str, bool]]  # value, label, items, link, selected


FACET_TITLES = {
    "rule": "Rule",
    "status": "Status",
    "agency": "Agency",
    "assignee": "Assigned to",
    "year": "Year of the event",
}
ASSIGNEE_WORDS = {"me": "Me", "none": "Nobody", "other": "Someone else"}


def facets_of(form: QueueForm, counts: list[FacetCount]) -> list[Facet]:
    """The facets to show, each value linking to the queue narrowed to it."""
    facets: list[Facet] = []
    for name in FACETS:
        values = []
        for count in (c for c in counts if c.facet == name):
            label, link, selected = _facet_value(form, count)
            values.append((count.value, label, count.items, link, selected))
        if values:
            facets.append(Facet(name, FACET_TITLES[name], values))
    return facets


def _facet_value(form: QueueForm, count: FacetCount) -> tuple[str, str, bool]:
    v = form.values
    if count.facet == "year":
        start, end = f"{count.value}-01-01", f"{count.value}-12-31"
        selected = v.get("date_from") == start and v.get("date_to") == end
        return count.value, form.link(date_from=start, date_to=end, page=None), selected
    if count.facet == "assignee":
        label = ASSIGNEE_WORDS[count.value]
        if count.value == "other":
            return label, "", False  # several accounts: no one link narrows to them all
        return label, form.link(assignee=count.value, page=None), v.get("assignee") == count.value
    if count.facet == "status":
        label = STATUS_WORDS.get(count.value, count.value)
    elif count.facet == "rule":
        label = f"{count.value}: {count.label}" if count.label else count.value
    else:
        label = count.value
    selected = v.get(count.facet) == count.value
    return label, form.link(**{count.facet: count.value, "page": None}), selected


@router.get("/queue", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def queue_page(request: Request, access: Access) -> Response:
    """The review items in scope, filtered and faceted, highest priority first, paged."""
    form = QueueForm.read(request.query_params)
    chosen = form.chosen(access.principal.account_id)
    page = access.queue(chosen, form.page, form.page_size)
    counts = access.queue_facets(chosen)
    last_page = max(1, -(-page.total // form.page_size))
    return _pages(request).render(
        request,
        "queue.html",
        {
            "form": form,
            "page": page,
            "facets": facets_of(form, counts),
            "last_page": last_page,
            "statuses": STATUS_WORDS,
            "page_sizes": PAGE_SIZES,
            "agencies": sorted(access.principal.scopes),
            "rules": sorted({c.value: c.label for c in counts if c.facet == "rule"}.items()),
            "me_id": access.principal.account_id,
        },
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT if form.problems else 200,
    )


# ---- an item -----------------------------------------------------------------------------


def item_page(
    request: Request,
    access: DataAccess,
    item_id: str,
    message: str | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    """An item as ``screen explain`` gives it, with its casework and the forms to work it."""
    detail = access.item(item_id)
    me = access.principal.account_id
    holder = detail.assignment.assignee_id if detail.assignment else None
    history = sorted(
        [("status", s.at, s) for s in detail.statuses] + [("note", n.at, n) for n in detail.notes],
        key=lambda entry: entry[1],
    )
    return _pages(request).render(
        request,
        "item.html",
        {
            "detail": detail,
            "item": detail.item,
            "history": history,
            "holder": holder,
            "me_id": me,
            "held_by_me": holder == me,
            "statuses": STATUS_WORDS,
            "message": message,
            "access_reason": access.reason or "",
        },
        status_code=status_code,
    )


@router.get("/items/{item_id:path}", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def read_item(request: Request, item_id: str, access: Access) -> Response:
    """A review item: the rules' reasons, legal basis, facts and evidence, and its casework."""
    return item_page(request, access, item_id)


def _act(
    request: Request, access: DataAccess, item_id: str, change: Any, reason: str = ""
) -> Response:
    """Do one change to an item, then show the item again; a change the casework rules refuse
    shows the item with why."""
    try:
        with_reason(access, reason)
        change()
    except (InvalidError, ForbiddenError, ConflictError) as refused:
        return item_page(request, access, item_id, str(refused), refused.status)
    except (ValidationError, ValueError):
        message = "That change was not accepted: check the form and try again."
        return item_page(request, access, item_id, message, 422)
    return _go(path_of("items", item_id) + "#casework")


@router.post(
    "/items/{item_id:path}/status", dependencies=[Depends(Requires(Permission.WORK_ITEMS))]
)
def change_status(
    request: Request,
    item_id: str,
    access: Access,
    new_status: Annotated[str, Form(alias="status", max_length=40)],
    reason: ReasonField = "",
) -> Response:
    """Set the item's status (no further action needs a reason)."""
    return _act(
        request, access, item_id,
        lambda: access.set_status(
            item_id, StatusChange.model_validate({"status": new_status, "reason": reason or None})
        ),
    )  # fmt: skip


@router.post(
    "/items/{item_id:path}/assignment", dependencies=[Depends(Requires(Permission.WORK_ITEMS))]
)
def change_assignment(
    request: Request,
    item_id: str,
    access: Access,
    to: Annotated[str, Form(max_length=20)],
    assignee_id: Annotated[str, Form(max_length=20)] = "",
    back: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Assign the item to yourself, to nobody, or (assign_others) to another account."""
    if to == "me":
        change = AssignmentChange()
    elif to == "nobody":
        change = AssignmentChange(unassign=True)
    else:
        try:
            change = AssignmentChange(assignee_id=int(assignee_id))
        except (ValueError, ValidationError):
            message = "Give the number of the account to assign the item to."
            return item_page(request, access, item_id, message, 422)
    if back == "queue":
        # taken from the queue: open the item next (a refusal answers with its own page)
        access.assign(item_id, change)
        return _go(path_of("items", item_id))
    return _act(request, access, item_id, lambda: access.assign(item_id, change))


@router.post("/items/{item_id:path}/notes", dependencies=[Depends(Requires(Permission.WORK_ITEMS))])
def add_note(
    request: Request,
    item_id: str,
    access: Access,
    text: Annotated[str, Form(max_length=NOTE_LIMIT)],
    access_reason: ReasonField = "",
) -> Response:
    """Add a note (never edited or deleted)."""
    return _act(
        request, access, item_id,
        lambda: access.add_note(item_id, NoteIn.model_validate({"text": text})),
        access_reason,
    )  # fmt: skip


@router.post("/items/{item_id:path}", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def open_item_with_reason(
    request: Request, item_id: str, access: Access, access_reason: ReasonField
) -> Response:
    """The item, opened with a stated reason (break glass: the read is flagged)."""
    with_reason(access, access_reason)
    return item_page(request, access, item_id)


# ---- records and events ------------------------------------------------------------------


def record_page(request: Request, access: DataAccess, record_id: str) -> Response:
    detail = access.record(record_id)
    return _pages(request).render(request, "record.html", {"detail": detail})


@router.get("/records/{record_id:path}", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def read_record(request: Request, record_id: str, access: Access) -> Response:
    """A record: its values raw beside standardised and the source rows behind it."""
    return record_page(request, access, record_id)


@router.post(
    "/records/{record_id:path}", dependencies=[Depends(Requires(Permission.READ_CASEWORK))]
)
def open_record_with_reason(
    request: Request, record_id: str, access: Access, access_reason: ReasonField
) -> Response:
    """The record, opened with a stated reason (break glass: the read is flagged)."""
    with_reason(access, access_reason)
    return record_page(request, access, record_id)


def event_page(request: Request, access: DataAccess, event_id: str) -> Response:
    detail = access.event(event_id)
    return _pages(request).render(request, "event.html", {"detail": detail})


@router.get("/events/{event_id:path}", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def read_event(request: Request, event_id: str, access: Access) -> Response:
    """An event: its values raw beside standardised, and who was involved."""
    return event_page(request, access, event_id)


@router.post("/events/{event_id:path}", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def open_event_with_reason(
    request: Request, event_id: str, access: Access, access_reason: ReasonField
) -> Response:
    """The event, opened with a stated reason (break glass: the read is flagged)."""
    with_reason(access, access_reason)
    return event_page(request, access, event_id)


# ---- the account -------------------------------------------------------------------------


@router.get("/account", dependencies=[Depends(Requires(Permission.OWN_ACCOUNT))])
def account_page(
    request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> Response:
    """Who is signed in: username, role and agency scopes (as ``GET /api/me``)."""
    return _pages(request).render(
        request, "account.html", {"scopes": sorted(principal.scopes), "principal": principal}
    )
