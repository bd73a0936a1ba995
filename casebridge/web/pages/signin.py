"""The sign-in pages: password, second-factor enrolment, code, a new password in place of a
one-time one, and sign-out. Each calls the same sign-in functions as the API's steps
(``casebridge.web.auth.signin``), in a transaction, so the rate limits, the lockout and the
trail apply exactly as they do there.

Every page's form carries a CSRF token. The password form comes before any session exists, so
its token is a double-submit one: a random value set in an HttpOnly, SameSite=Strict cookie
with the form and sent back in the form's ``csrf_token`` field; another site can make a browser
post the form but cannot read the value. Every later form carries the session's token.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from argon2 import PasswordHasher
from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from casebridge.web.auth import signin
from casebridge.web.auth.accounts import AccountError
from casebridge.web.auth.passwords import MAXIMUM_LENGTH, PasswordPolicyError
from casebridge.web.auth.sessions import (
    Stage,
    clear_session_cookie,
    forget_cached_session,
    remote_addr_of,
    session_of,
    set_session_cookie,
)
from casebridge.web.auth.text import StorableText
from casebridge.web.config import ServiceSettings
from casebridge.web.db import transaction
from casebridge.web.models import WebSession, utc_now
from casebridge.web.pages.render import Pages
from casebridge.web.permissions import PUBLIC, Permission, allowed

router = APIRouter(include_in_schema=False)

SIGN_IN_COOKIE = "cb_sign_in"
SIGN_IN_PATH = "/sign-in"
NOT_ACCEPTED = "That username and password were not accepted."
CODE_NOT_ACCEPTED = "That code was not accepted. Enter the code your app shows now."
TOO_MANY = "Too many failed sign-ins. Wait a few minutes and try again."
FORM_EXPIRED = "This sign-in form has expired. Enter your username and password again."
STAGE_PAGES = {
    Stage.ENROL_SECOND_FACTOR: "/sign-in/enrol",
    Stage.SECOND_FACTOR: "/sign-in/code",
    Stage.CHANGE_PASSWORD: "/sign-in/new-password",
}

Username = Annotated[StorableText, Form(max_length=200)]
Password = Annotated[StorableText, Form(max_length=MAXIMUM_LENGTH * 4)]
Code = Annotated[StorableText, Form(max_length=20)]
FormToken = Annotated[str, Form(max_length=200)]


def _pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def _settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


def _hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.password_hasher
    return hasher


def home_of(role: str) -> str:
    """Where a signed-in account starts: the queue, if its role reads casework."""
    if role and allowed(role, Permission.READ_CASEWORK):
        return "/queue"
    return "/account"


def _go(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=status.HTTP_303_SEE_OTHER)


def next_page(request: Request) -> str:
    """The page the request's session must go to next (the sign-in page without one)."""
    state = session_of(request)
    if state is None:
        return SIGN_IN_PATH
    if state.stage is Stage.COMPLETE:
        return home_of(state.role)
    return STAGE_PAGES[state.stage]


def _session_at(request: Request, db: Session, *stages: Stage) -> WebSession | None:
    """The request's session row, if it is at one of ``stages``."""
    state = session_of(request)
    if state is None or state.stage not in stages:
        return None
    return db.get_one(WebSession, state.session_id)


@router.get("/", dependencies=[Depends(PUBLIC)])
def start(request: Request) -> RedirectResponse:
    """Send the browser where its sign-in stands: the sign-in page, its next step, or home."""
    return _go(next_page(request))


def password_form(request: Request, message: str | None, status_code: int) -> Response:
    """The username and password form, with its double-submit token set in a cookie."""
    token = secrets.token_urlsafe(32)
    response = _pages(request).render(
        request,
        "signin/password.html",
        {"form_token": token, "message": message},
        status_code=status_code,
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_settings(request).secure_cookies,
        path=SIGN_IN_PATH,
    )
    return response


@router.get(SIGN_IN_PATH, dependencies=[Depends(PUBLIC)])
def password_page(request: Request) -> Response:
    """The username and password form (or the next step, for a session already started)."""
    state = session_of(request)
    if state is not None:
        return _go(next_page(request))
    return password_form(request, None, status.HTTP_200_OK)


@router.post(SIGN_IN_PATH, dependencies=[Depends(PUBLIC)])
def password_step(
    request: Request, username: Username, password: Password, csrf_token: FormToken = ""
) -> Response:
    """Check the username and password, as ``POST /api/auth/login`` does."""
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf_token.encode(), expected.encode()):
        return password_form(request, FORM_EXPIRED, status.HTTP_403_FORBIDDEN)
    with transaction(request.app.state.sessions) as db:
        outcome = signin.sign_in_with_password(
            db,
            _hasher(request),
            _settings(request),
            username,
            password,
            remote_addr_of(request),
            utc_now(),
        )
    if outcome is signin.Rejection.TOO_MANY_ATTEMPTS:
        return password_form(request, TOO_MANY, status.HTTP_429_TOO_MANY_REQUESTS)
    if isinstance(outcome, signin.Rejection):
        return password_form(request, NOT_ACCEPTED, status.HTTP_401_UNAUTHORIZED)
    done, token = outcome
    response = _go(STAGE_PAGES.get(done.stage, "/"))
    set_session_cookie(response, token, _settings(request))
    response.delete_cookie(SIGN_IN_COOKIE, path=SIGN_IN_PATH)
    return response


@router.get("/sign-in/enrol", dependencies=[Depends(PUBLIC)])
def enrol_page(request: Request) -> Response:
    """Explain the second factor and offer to show a new secret (a POST: it makes one)."""
    if request.url.path != next_page(request):
        return _go(next_page(request))
    return _pages(request).render(request, "signin/enrol.html", {"enrolment": None})


@router.post("/sign-in/enrol", dependencies=[Depends(PUBLIC)])
def enrol_step(request: Request) -> Response:
    """A new secret, shown this once as text and as an otpauth URI, with the code form."""
    with transaction(request.app.state.sessions) as db:
        web_session = _session_at(request, db, Stage.ENROL_SECOND_FACTOR)
        if web_session is None:
            return _go(next_page(request))
        enrolment = signin.begin_enrolment(db, web_session)
    return _pages(request).render(
        request, "signin/enrol.html", {"enrolment": enrolment, "message": None}
    )


@router.get("/sign-in/code", dependencies=[Depends(PUBLIC)])
def code_page(request: Request) -> Response:
    """The form for a code from the authenticator app."""
    if next_page(request) != request.url.path:
        return _go(next_page(request))
    return _pages(request).render(request, "signin/code.html", {"message": None})


@router.post("/sign-in/code", dependencies=[Depends(PUBLIC)])
def code_step(request: Request, code: Code) -> Response:
    """Check the code, as ``POST /api/auth/second-factor`` does (confirming an enrolment)."""
    state = session_of(request)
    enrolling = state is not None and state.stage is Stage.ENROL_SECOND_FACTOR
    with transaction(request.app.state.sessions) as db:
        web_session = _session_at(request, db, Stage.ENROL_SECOND_FACTOR, Stage.SECOND_FACTOR)
        if web_session is None:
            return _go(next_page(request))
        outcome = signin.enter_code(
            db, _settings(request), web_session, code, remote_addr_of(request), utc_now()
        )
    if isinstance(outcome, signin.Rejection):
        message = TOO_MANY if outcome is signin.Rejection.TOO_MANY_ATTEMPTS else CODE_NOT_ACCEPTED
        code_status = (
            status.HTTP_429_TOO_MANY_REQUESTS
            if outcome is signin.Rejection.TOO_MANY_ATTEMPTS
            else status.HTTP_401_UNAUTHORIZED
        )
        template = "signin/enrol.html" if enrolling else "signin/code.html"
        return _pages(request).render(
            request, template, {"message": message, "enrolment": None}, status_code=code_status
        )
    forget_cached_session(request)
    role = state.role if state is not None else ""
    response = _go(STAGE_PAGES.get(outcome.stage) or home_of(role))
    if outcome.token is not None:
        set_session_cookie(response, outcome.token, _settings(request))
    return response


@router.get("/sign-in/new-password", dependencies=[Depends(PUBLIC)])
def new_password_page(request: Request) -> Response:
    """The form for the owner's own password, in place of a one-time one."""
    if next_page(request) != request.url.path:
        return _go(next_page(request))
    return _pages(request).render(request, "signin/new_password.html", {"message": None})


@router.post("/sign-in/new-password", dependencies=[Depends(PUBLIC)])
def new_password_step(request: Request, new_password: Password, repeated: Password) -> Response:
    """Replace the one-time password, as ``POST /api/auth/new-password`` does."""
    message = None
    if new_password != repeated:
        message = "The two passwords differ. Type the same new password twice."
    else:
        try:
            with transaction(request.app.state.sessions) as db:
                web_session = _session_at(request, db, Stage.CHANGE_PASSWORD)
                if web_session is None:
                    return _go(next_page(request))
                signin.choose_new_password(
                    db, _hasher(request), web_session, new_password,
                    remote_addr_of(request), utc_now(),
                )  # fmt: skip
        except (PasswordPolicyError, AccountError) as error:
            message = str(error)
    if message is not None:
        return _pages(request).render(
            request,
            "signin/new_password.html",
            {"message": message},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    forget_cached_session(request)
    return _go(next_page(request))


@router.post("/sign-out", dependencies=[Depends(PUBLIC)])
def sign_out(request: Request) -> Response:
    """End this session, as ``POST /api/auth/logout`` does, and go to the sign-in page."""
    with transaction(request.app.state.sessions) as db:
        web_session = _session_at(request, db, *Stage)
        if web_session is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in first")
        signin.sign_out(db, web_session, remote_addr_of(request), utc_now())
    response = _go(SIGN_IN_PATH)
    clear_session_cookie(response, _settings(request))
    return response
