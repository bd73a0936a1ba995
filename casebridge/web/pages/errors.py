"""Refusals as pages: a request for a page (any path outside ``/api/``) that is refused gets an
HTML answer with the same status the API would give; the API keeps its JSON answers.

- not signed in (401): the sign-in form itself;
- outside your scope, or no such thing (404): the same "not found" page for both;
- a reason needed (break glass, 403): a form that asks for it and opens the page with it;
- anything else refused: a page saying what, in one line, never echoing what was sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from casebridge.web.access import AccessError, NotFoundError, ReasonRequiredError
from casebridge.web.auth.sessions import session_of
from casebridge.web.pages import signin
from casebridge.web.pages.render import Pages
from casebridge.web.snapshot import NoSnapshotError

Handler = Callable[[Request, Any], Response | Awaitable[Response]]
API_PREFIX = "/api/"

TITLES = {
    400: "Request not understood",
    401: "Sign in first",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Held by someone else",
    422: "Not accepted",
    429: "Too many attempts",
    503: "Not ready yet",
}
NOT_FOUND_TEXT = (
    "There is nothing with this address in your agencies' records. It may never have existed, "
    "or it may belong to an agency outside your scope."
)


def is_page(request: Request) -> bool:
    """Whether the request is for a page (the API answers in JSON under /api/)."""
    return not request.url.path.startswith(API_PREFIX)


def refusal_page(pages: Pages, request: Request, code: int, message: str) -> Response:
    """The page for a refused request: its status, a title and one line saying why."""
    if code == status.HTTP_401_UNAUTHORIZED:
        return sign_in_first(pages, request)
    if code == status.HTTP_404_NOT_FOUND:
        message = NOT_FOUND_TEXT
    return pages.render(
        request,
        "error.html",
        {"title": TITLES.get(code, "Refused"), "message": message, "code": code},
        status_code=code,
    )


def sign_in_first(pages: Pages, request: Request) -> Response:
    """A page that needs a sign-in, asked for without one: 401, with the sign-in form itself
    (or, for a sign-in under way, a link to its next step)."""
    if session_of(request) is None:
        return signin.password_form(request, None, status.HTTP_401_UNAUTHORIZED)
    return pages.render(
        request,
        "error.html",
        {
            "title": "Finish signing in",
            "message": "Finish signing in first.",
            "code": status.HTTP_401_UNAUTHORIZED,
            "next_step": signin.next_page(request),
        },
        status_code=status.HTTP_401_UNAUTHORIZED,
    )


def install_error_pages(app: FastAPI, pages: Pages) -> None:
    """Answer refused page requests with pages; keep the handlers the API had for /api/."""

    def html_or(api_handler: Handler, answer: Callable[[Request, Any], Response]) -> Handler:
        async def handle(request: Request, error: Any) -> Response:
            if is_page(request):
                return answer(request, error)
            result = api_handler(request, error)
            return await result if isinstance(result, Awaitable) else result

        return handle

    def http_error(request: Request, error: StarletteHTTPException) -> Response:
        detail = error.detail if isinstance(error.detail, str) else TITLES.get(error.status_code)
        return refusal_page(pages, request, error.status_code, detail or "refused")

    def access_error(request: Request, error: AccessError) -> Response:
        if isinstance(error, ReasonRequiredError):
            # the reason goes back in a POST body to the same address (a pair's has its ids)
            query = request.url.query
            action = request.url.path + (f"?{query}" if query else "")
            return pages.render(request, "reason.html", {"action": action}, error.status)
        if isinstance(error, NotFoundError):
            return refusal_page(pages, request, status.HTTP_404_NOT_FOUND, "")
        return refusal_page(pages, request, error.status, str(error))

    def snapshot_error(request: Request, error: NoSnapshotError) -> Response:
        return refusal_page(pages, request, status.HTTP_503_SERVICE_UNAVAILABLE, str(error))

    def invalid_request(request: Request, error: RequestValidationError) -> Response:
        fields = sorted({str(problem.get("loc", ("", "?"))[-1]) for problem in error.errors()})
        message = "Check these and try again: " + ", ".join(fields)
        return refusal_page(pages, request, status.HTTP_422_UNPROCESSABLE_CONTENT, message)

    handlers = app.exception_handlers
    for kind, answer in (
        (StarletteHTTPException, http_error),
        (AccessError, access_error),
        (NoSnapshotError, snapshot_error),
        (RequestValidationError, invalid_request),
    ):
        app.add_exception_handler(kind, html_or(handlers[kind], answer))
