"""CSRF protection for every state-changing request, applied to the whole application.

Each session has a random token (``WebSession.csrf_token``), given to the client when it signs
in. A POST, PUT, PATCH or DELETE must send it back in the ``X-CSRF-Token`` header (or, from a
form, in a ``csrf_token`` field); another site can make a browser send the cookie but cannot
read the token. The one exception is the login step (the API's and the sign-in page's), which
has no session yet.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from casebridge.web.auth.sessions import session_of

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# the login step starts a session, so it has no token to send
LOGIN_PATH = "/api/auth/login"
# the sign-in page's form (casebridge/web/pages/signin.py) checks its own token instead: a
# double-submit cookie set with the form, since no session exists yet
PAGE_LOGIN_PATH = "/sign-in"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def require_csrf_token(request: Request) -> None:
    """Refuse a state-changing request without its session's CSRF token (401 without a
    session at all, 403 with a missing or wrong token)."""
    if request.method in SAFE_METHODS or request.url.path in (LOGIN_PATH, PAGE_LOGIN_PATH):
        return
    state = await run_in_threadpool(session_of, request)
    if state is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in first")
    sent = request.headers.get(CSRF_HEADER) or await _form_token(request)
    if not sent or not hmac.compare_digest(sent.encode(), state.csrf_token.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF token missing or wrong")


async def _form_token(request: Request) -> str | None:
    """The ``csrf_token`` field of a form body (parsed once; the route reads the same form)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(FORM_TYPES):
        return None
    form = await request.form()
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None
