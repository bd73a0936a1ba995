"""The search page: persons in scope by name (keyed as the linker keys names, so a spelling
variant finds the other), birth date, postcode or identifier.

The form is a POST, so the terms travel in the body and never in an address (nor in logs or
the browser's history); every search needs a reason, kept in the trail with the ids of the
persons found (never the terms). The search itself is the API's, through
:meth:`~casebridge.web.access.Access.search`: scope, masking (a masked victim is not found by
the details masked) and the trail apply as there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import Response

from casebridge.web.access import InvalidError
from casebridge.web.pages.casework import Access, storable_text, with_reason
from casebridge.web.pages.render import Pages
from casebridge.web.permissions import Permission, Requires
from casebridge.web.services.schemas import REASON_LIMIT, SearchResults, storable
from casebridge.web.services.search import SearchTerms

router = APIRouter(include_in_schema=False)

NO_REASON = "Every search needs a reason: say why you are searching."
NO_TERMS = "Give a name, a birth date, a postcode or an identifier to search for."
TERM_LIMITS = {"name": 400, "birth_date": 10, "postcode": 40, "identifier": 100}


@dataclass
class SearchForm:
    """The search form as sent: its terms, the reason, and what is wrong with them (by the
    field's name, never its value)."""

    terms: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    problems: list[str] = field(default_factory=list)

    def search_terms(self) -> SearchTerms:
        """The terms the search service takes (only those that parsed)."""
        born = self.terms.get("birth_date")
        return SearchTerms(
            name=self.terms.get("name") or None,
            birth_date=dt.date.fromisoformat(born) if born else None,
            postcode=self.terms.get("postcode") or None,
            identifier=self.terms.get("identifier") or None,
        )


def read_form(
    name: str, birth_date: str, postcode: str, identifier: str, reason: str
) -> SearchForm:
    """The form's fields checked: a birth date must be a date, text must be printable."""
    form = SearchForm(reason=reason.strip())
    given = {"name": name, "birth_date": birth_date, "postcode": postcode, "identifier": identifier}
    for key, value in given.items():
        text = value.strip()
        if not text:
            continue
        form.terms[key] = text
        if not _valid(key, text):
            form.problems.append(f"The {key.replace('_', ' ')} cannot be searched for.")
    if not form.reason:
        form.problems.append(NO_REASON)
    elif not _storable(form.reason):
        form.problems.append("The reason holds characters that cannot be kept: retype it.")
    if not any(form.terms.values()):
        form.problems.append(NO_TERMS)
    return form


def _storable(text: str) -> bool:
    try:
        storable(text)
    except ValueError:
        return False
    return True


def _valid(key: str, text: str) -> bool:
    if key == "birth_date":
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            return False
        return len(text) == len("2000-01-31")
    return storable_text(text)


def _pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def search_page(
    request: Request,
    form: SearchForm,
    results: SearchResults | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    return _pages(request).render(
        request,
        "search.html",
        {"form": form, "results": results, "problems": form.problems},
        status_code=status_code,
    )


@router.get("/search", dependencies=[Depends(Requires(Permission.SEARCH))])
def search_form(request: Request) -> Response:
    """The search form (nothing is searched, nothing read)."""
    return search_page(request, SearchForm())


NameField = Annotated[str, Form(max_length=TERM_LIMITS["name"])]
BirthDateField = Annotated[str, Form(max_length=TERM_LIMITS["birth_date"])]
PostcodeField = Annotated[str, Form(max_length=TERM_LIMITS["postcode"])]
IdentifierField = Annotated[str, Form(max_length=TERM_LIMITS["identifier"])]
ReasonText = Annotated[str, Form(max_length=REASON_LIMIT)]


@router.post("/search", dependencies=[Depends(Requires(Permission.SEARCH))])
def search(
    request: Request,
    access: Access,
    name: NameField = "",
    birth_date: BirthDateField = "",
    postcode: PostcodeField = "",
    identifier: IdentifierField = "",
    reason: ReasonText = "",
) -> Response:
    """Persons in scope matching every term given, with the reason for searching (required,
    and kept in the trail with the ids found)."""
    form = read_form(name, birth_date, postcode, identifier, reason)
    if form.problems:
        return search_page(request, form, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    with_reason(access, form.reason)
    try:
        results = access.search(form.search_terms())
    except InvalidError:
        form.problems.append(NO_TERMS)
        return search_page(request, form, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    # the results do not repeat the terms: what matched is said per person, and the form
    # comes back empty for the next search
    return search_page(request, SearchForm(), results)
