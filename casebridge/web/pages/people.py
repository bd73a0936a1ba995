"""The person and pair pages: a person's records across agencies side by side with their
provenance, their timeline, networks and review items; two records compared, the model's
per-comparison weights as a cumulative waterfall, and the judgements on the pair.

As every page, each declares its permission and reads and writes through
:class:`~casebridge.web.access.Access` (scope, masking, break glass, the trail).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError

from casebridge.link.explain import waterfall_svg
from casebridge.web.access import Access as DataAccess
from casebridge.web.access import InvalidError
from casebridge.web.pages.casework import Access, ReasonField, with_reason
from casebridge.web.pages.render import Pages, query
from casebridge.web.permissions import Permission, Requires
from casebridge.web.services.schemas import JudgementIn, PersonDetail, RecordOut

router = APIRouter(include_in_schema=False)

RecordId = Annotated[str, Query(min_length=1, max_length=200)]
VERDICTS = {"same": "The same person", "different": "Different people", "unsure": "Unsure"}
# the match probability in words, from the highest band down
PROBABILITY_WORDS = (
    (0.99, "almost certainly the same person"),
    (0.9, "very likely the same person"),
    (0.5, "more likely the same person than not"),
    (0.1, "unlikely to be the same person, though possible"),
    (0.0, "very unlikely to be the same person"),
)


def _pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def probability_in_words(probability: float | None) -> str:
    """How likely a pair is one person, in words a reviewer reads at a glance."""
    if probability is None:
        return "not scored: the model did not compare these two records"
    return next(words for floor, words in PROBABILITY_WORDS if probability >= floor)


def side_by_side(records: list[RecordOut]) -> list[tuple[str, list[tuple[str, str, bool]]]]:
    """Rows (field, cells) with one cell per record: (standardised, raw, masked)."""
    names: list[str] = []
    for record in records:
        names.extend(f.field for f in record.fields if f.field not in names)
    rows = []
    for name in names:
        cells = []
        for record in records:
            found = next((f for f in record.fields if f.field == name), None)
            value = "" if found is None or found.value is None else found.value
            raw = "" if found is None or found.raw is None else found.raw
            cells.append((value, raw, name in record.masked))
        rows.append((name, cells))
    return rows


def person_page(request: Request, access: DataAccess, person_id: str) -> Response:
    detail: PersonDetail = access.person(person_id)
    timeline = sorted(detail.events, key=lambda e: (e.event_date is None, e.event_date, e.event_id))
    return _pages(request).render(
        request,
        "person.html",
        {
            "detail": detail,
            "rows": side_by_side(detail.records),
            "timeline": timeline,
            "query": query,
        },
    )


@router.get("/persons/{person_id}", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def read_person(request: Request, person_id: str, access: Access) -> Response:
    """A person: every record across agencies with provenance, timeline, networks, items."""
    return person_page(request, access, person_id)


@router.post("/persons/{person_id}", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def open_person_with_reason(
    request: Request, person_id: str, access: Access, access_reason: ReasonField
) -> Response:
    """The person, opened with a stated reason (break glass: the read is flagged)."""
    with_reason(access, access_reason)
    return person_page(request, access, person_id)


def pair_page(
    request: Request,
    access: DataAccess,
    first: str,
    second: str,
    message: str | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    detail = access.pair(first, second)
    chart = None
    if detail.comparisons:
        rows = [(c.comparison, c.level, c.weight) for c in detail.comparisons]
        # the chart escapes every label it draws; its colours are attributes, not styles
        chart = Markup(waterfall_svg("Match weight, comparison by comparison", rows))
    return _pages(request).render(
        request,
        "pair.html",
        {
            "detail": detail,
            "chart": chart,
            "in_words": probability_in_words(detail.match_probability),
            "verdicts": VERDICTS,
            "message": message,
            "access_reason": access.reason or "",
            "me_id": access.principal.account_id,
        },
        status_code=status_code,
    )


@router.get("/pairs", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def read_pair(request: Request, first: RecordId, second: RecordId, access: Access) -> Response:
    """Two records compared: values, weights as a waterfall, probability, judgements."""
    return pair_page(request, access, first, second)


@router.post("/pairs/judgements", dependencies=[Depends(Requires(Permission.JUDGE_PAIRS))])
def judge_pair(
    request: Request,
    access: Access,
    first: Annotated[str, Form(min_length=1, max_length=200)],
    second: Annotated[str, Form(min_length=1, max_length=200)],
    verdict: Annotated[str, Form(max_length=20)],
    reason: ReasonField = "",
    access_reason: ReasonField = "",
) -> Response:
    """Judge the pair the same person, different people or unsure, with why; ``casebridge
    link`` honours the latest judgement of a pair."""
    try:
        with_reason(access, access_reason)
        given = JudgementIn.model_validate(
            {"first": first, "second": second, "verdict": verdict, "reason": reason.strip()}
        )
        access.judge(given)
    except (ValidationError, ValueError, InvalidError):
        message = "Choose a verdict and give your reason for it."
        return pair_page(request, access, first, second, message, 422)
    target = "/pairs?" + query(first=first, second=second) + "#judgements"
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


@router.post("/pairs", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def open_pair_with_reason(
    request: Request, first: RecordId, second: RecordId, access: Access, access_reason: ReasonField
) -> Response:
    """The pair, opened with a stated reason (break glass: the read is flagged)."""
    with_reason(access, access_reason)
    return pair_page(request, access, first, second)
