"""The casework API: the review queue and its items, persons, records, events, pairs and their
judgements, networks and their exports, and search (docs/service.md, "Casework API").

Every route declares its permission and reaches the data through one
:class:`~casebridge.web.access.Access`, which enforces scope, masking and break glass and writes
the trail. Ids may hold ``/`` (an event id such as ``force_a:NP/2019/000123``), so the routes
take them as paths. Search terms travel in a POST body, never in the URL, so they stay out of
logs; a reason may come as the ``reason`` parameter or the ``X-Access-Reason`` header.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    Header,
    HTTPException,
    Query,
    Request,
    Response,
    status,
)
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from casebridge.web.access import REASON_HEADER, Access, AccessError
from casebridge.web.deps import Principal, current_principal
from casebridge.web.permissions import Permission, Requires
from casebridge.web.refusals import UNPROCESSABLE
from casebridge.web.services.reads import QueueFilter
from casebridge.web.services.schemas import (
    REASON_LIMIT,
    AssignmentChange,
    AssignmentOut,
    EventDetail,
    ExportFormat,
    ItemDetail,
    ItemStatusName,
    JudgementIn,
    JudgementOut,
    NetworkDetail,
    NetworkPage,
    NoteIn,
    NoteOut,
    PairDetail,
    PersonDetail,
    QueuePage,
    RecordDetail,
    SearchIn,
    SearchResults,
    SnapshotOut,
    StatusChange,
    StatusEntry,
    storable,
)
from casebridge.web.services.search import SearchTerms
from casebridge.web.snapshot import NoSnapshotError, SnapshotStore, ensure_snapshot

PAGE_LIMIT = 100


class Problem(BaseModel):
    """Why a request was refused."""

    detail: str


PROBLEMS: dict[int | str, dict[str, object]] = {
    **{
        code: {"model": Problem, "description": text}
        for code, text in (
            (403, "your role may not do this, or a reason is needed"),
            (404, "no such thing in your scope"),
            (503, "the published results do not hold this yet"),
        )
    },
    **UNPROCESSABLE,
}
WRITE_PROBLEMS = PROBLEMS | {
    409: {"model": Problem, "description": "the item is assigned to another account"},
}


def open_access(
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    reason: Annotated[
        str | None,
        Query(max_length=REASON_LIMIT, description="Why you open this (break glass)."),
    ] = None,
    access_reason: Annotated[
        str | None,
        Header(alias=REASON_HEADER, max_length=REASON_LIMIT, description="As ``reason``."),
    ] = None,
) -> Iterator[Access]:
    """The request's access to casework, reading the current snapshot until it ends."""
    store: SnapshotStore = request.app.state.snapshots
    stated = next((r.strip() for r in (reason, access_reason) if r and r.strip()), None)
    if stated is not None:
        try:
            storable(stated)
        except ValueError as why:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(why)) from None
    with store.reading() as reader:
        yield Access(principal, reader, request.app.state.sessions, stated)


CaseworkAccess = Annotated[Access, Depends(open_access)]
router = APIRouter(prefix="/api", tags=["casework"], responses=PROBLEMS)


@router.get("/snapshot", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def read_snapshot(access: CaseworkAccess) -> SnapshotOut:
    """The published results the service reads now."""
    return access.snapshot()


@router.get("/queue", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def read_queue(
    access: CaseworkAccess,
    rule: Annotated[str | None, Query(max_length=40)] = None,
    priority_min: Annotated[float | None, Query(ge=0)] = None,
    agency: Annotated[str | None, Query(max_length=200)] = None,
    item_status: Annotated[ItemStatusName | None, Query(alias="status")] = None,
    assignee: Annotated[
        str | None,
        Query(pattern=r"^(me|none|[0-9]{1,18})$", description="me, none or an account id"),
    ] = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=PAGE_LIMIT)] = 25,
) -> QueuePage:
    """Review items in your scope, highest priority first, narrowed by the filters given."""
    chosen = QueueFilter(
        rule=rule, priority_min=priority_min, agency=agency, status=item_status,
        assignee_id=access.principal.account_id if assignee == "me"
        else int(assignee) if assignee and assignee != "none" else None,
        unassigned=assignee == "none", date_from=date_from, date_to=date_to,
    )  # fmt: skip
    return access.queue(chosen, page, page_size)


@router.post(
    "/items/{item_id:path}/status",
    dependencies=[Depends(Requires(Permission.WORK_ITEMS))],
    responses=WRITE_PROBLEMS,
)
def change_status(item_id: str, change: StatusChange, access: CaseworkAccess) -> StatusEntry:
    """Set an item's status (new, in_review, referred, no_further_action with a reason)."""
    return access.set_status(item_id, change)


@router.post(
    "/items/{item_id:path}/assignment",
    dependencies=[Depends(Requires(Permission.WORK_ITEMS))],
    responses=WRITE_PROBLEMS,
)
def change_assignment(
    item_id: str, change: AssignmentChange, access: CaseworkAccess
) -> AssignmentOut:
    """Assign an item to yourself, to another account (assign_others) or to nobody."""
    return access.assign(item_id, change)


@router.post(
    "/items/{item_id:path}/notes",
    dependencies=[Depends(Requires(Permission.WORK_ITEMS))],
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_PROBLEMS,
)
def add_note(item_id: str, note: NoteIn, access: CaseworkAccess) -> NoteOut:
    """Add a note to an item; notes are never edited or deleted."""
    return access.add_note(item_id, note)


@router.get("/items/{item_id:path}", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def read_item(item_id: str, access: CaseworkAccess) -> ItemDetail:
    """A review item: rules, reasons, legal basis, facts and evidence, status and notes."""
    return access.item(item_id)


@router.get("/persons/{person_id}", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def read_person(person_id: str, access: CaseworkAccess) -> PersonDetail:
    """A person: records across agencies with provenance, events, networks and items."""
    return access.person(person_id)


@router.get("/records/{record_id:path}", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def read_record(record_id: str, access: CaseworkAccess) -> RecordDetail:
    """A person record with the source rows behind it."""
    return access.record(record_id)


@router.get("/events/{event_id:path}", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def read_event(event_id: str, access: CaseworkAccess) -> EventDetail:
    """An event with its values raw beside standardised, and who was involved."""
    return access.event(event_id)


@router.get("/pairs", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def read_pair(
    first: Annotated[str, Query(min_length=1, max_length=200)],
    second: Annotated[str, Query(min_length=1, max_length=200)],
    access: CaseworkAccess,
) -> PairDetail:
    """Two records compared: the values, each comparison's weight, the probability."""
    return access.pair(first, second)


@router.post(
    "/pairs/judgements",
    dependencies=[Depends(Requires(Permission.JUDGE_PAIRS))],
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_PROBLEMS,
)
def judge_pair(judgement: JudgementIn, access: CaseworkAccess) -> JudgementOut:
    """Judge two records the same person, different people, or unsure; 'casebridge link'
    honours the latest judgement of each pair."""
    return access.judge(judgement)


@router.get("/networks", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def read_networks(
    access: CaseworkAccess,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=PAGE_LIMIT)] = 25,
) -> NetworkPage:
    """Networks in your scope, most suspects first."""
    return access.networks(page, page_size)


@router.get("/networks/{network_id}", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def read_network(network_id: str, access: CaseworkAccess) -> NetworkDetail:
    """A network: members with roles and centrality, and the ties between them."""
    return access.network(network_id)


@router.get(
    "/networks/{network_id}/export",
    dependencies=[Depends(Requires(Permission.EXPORT_NETWORKS))],
    response_class=Response,
    responses={
        200: {
            "description": "the network as a file",
            "content": {
                "application/graphml+xml": {},
                "application/gexf+xml": {},
                "application/zip": {},
            },
        }
    },
)
def export_network(
    network_id: str,
    access: CaseworkAccess,
    export_format: Annotated[ExportFormat, Query(alias="format")] = "graphml",
) -> Response:
    """A network as GraphML or GEXF (Gephi), or i2's CSV entities and links in a zip."""
    exported = access.export_network(network_id, export_format)
    return Response(
        exported.content,
        media_type=exported.media_type,
        headers={"Content-Disposition": f'attachment; filename="{exported.name}"'},
    )


@router.post("/search", dependencies=[Depends(Requires(Permission.SEARCH))])
def search(terms: SearchIn, access: CaseworkAccess) -> SearchResults:
    """Persons by name (spelling variants meet, as in linkage), birth date, postcode or
    identifier. Every search needs a reason and is trailed; the terms are not."""
    if terms.reason and terms.reason.strip():
        access.reason = terms.reason.strip()
    return access.search(
        SearchTerms(
            name=terms.name,
            birth_date=terms.birth_date,
            postcode=terms.postcode,
            identifier=terms.identifier,
        )  # fmt: skip
    )


async def _refused(request: Request, exc: Exception) -> Response:
    code = exc.status if isinstance(exc, AccessError) else status.HTTP_503_SERVICE_UNAVAILABLE
    return JSONResponse({"detail": str(exc)}, status_code=code)


def install_casework(app: FastAPI) -> None:
    """Serve the casework API on ``app``: its routes, the snapshot store of the workspace
    (publishing a first snapshot if the workspace has results but none yet, and closed when
    the application stops) and the answers its refusals become."""
    workspace = app.state.settings.workspace
    ensure_snapshot(workspace)
    store = SnapshotStore(workspace)
    app.state.snapshots = store
    app.include_router(router)
    app.add_exception_handler(AccessError, _refused)
    app.add_exception_handler(NoSnapshotError, _refused)
    started = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[Any]:
        async with started(running) as state:
            yield state
        store.close()

    app.router.lifespan_context = lifespan
