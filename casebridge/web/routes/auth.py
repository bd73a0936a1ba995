"""The sign-in steps (docs/service.md, "Signing in"): served before a login, so PUBLIC; every
step after the first needs the session's cookie and its CSRF token."""

from __future__ import annotations

import hmac
from typing import Annotated

from argon2 import PasswordHasher
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from casebridge.web.auth import oidc, signin
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
from casebridge.web.permissions import PUBLIC
from casebridge.web.refusals import UNPROCESSABLE

router = APIRouter(prefix="/api/auth", tags=["sign-in"], responses=UNPROCESSABLE)

NOT_ACCEPTED = "sign-in not accepted"
TOO_MANY = "too many failed sign-ins; wait and try again"
WRONG_STEP = "this sign-in step is not the next one"


class Credentials(BaseModel):
    """A username and password."""

    username: StorableText = Field(max_length=200)
    password: StorableText = Field(max_length=MAXIMUM_LENGTH * 4)


class Code(BaseModel):
    """A six-digit code from the account's authenticator app."""

    code: StorableText = Field(max_length=20)


class NewPassword(BaseModel):
    """The password the account's owner chooses."""

    new_password: StorableText = Field(max_length=MAXIMUM_LENGTH * 4)


class StepAnswer(BaseModel):
    """What the session must do next (``complete`` when signed in), and the CSRF token to
    send in ``X-CSRF-Token`` with every POST, PUT, PATCH and DELETE."""

    next: Stage
    csrf_token: str


class SessionAnswer(BaseModel):
    """Where the request's session stands: ``signed_out``, or its next step."""

    stage: Stage | None
    csrf_token: str | None


class EnrolmentAnswer(BaseModel):
    """A new second-factor secret, shown this once; confirm it with a code."""

    secret: str
    otpauth_uri: str


def _hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.password_hasher
    return hasher


def _settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


def _session_at(db: Session, request: Request, *stages: Stage) -> WebSession:
    """The request's session row, if it is at one of ``stages``; else 401 or 409."""
    state = session_of(request)
    if state is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in first")
    if state.stage not in stages:
        raise HTTPException(status.HTTP_409_CONFLICT, WRONG_STEP)
    return db.get_one(WebSession, state.session_id)


def _refuse(rejection: signin.Rejection) -> HTTPException:
    if rejection is signin.Rejection.TOO_MANY_ATTEMPTS:
        return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, TOO_MANY)
    return HTTPException(status.HTTP_401_UNAUTHORIZED, NOT_ACCEPTED)


@router.post("/login", dependencies=[Depends(PUBLIC)])
def login(credentials: Credentials, request: Request, response: Response) -> StepAnswer:
    """Check a username and password; the session then awaits its second factor."""
    with transaction(request.app.state.sessions) as db:
        outcome = signin.sign_in_with_password(
            db,
            _hasher(request),
            _settings(request),
            credentials.username,
            credentials.password,
            remote_addr_of(request),
            utc_now(),
        )
    if isinstance(outcome, signin.Rejection):
        raise _refuse(outcome)
    done, token = outcome
    set_session_cookie(response, token, _settings(request))
    return StepAnswer(next=done.stage, csrf_token=done.csrf_token)


@router.post("/second-factor/enrol", dependencies=[Depends(PUBLIC)])
def enrol(request: Request) -> EnrolmentAnswer:
    """A new second-factor secret for an account that has none confirmed (shown once)."""
    with transaction(request.app.state.sessions) as db:
        web_session = _session_at(db, request, Stage.ENROL_SECOND_FACTOR)
        enrolment = signin.begin_enrolment(db, web_session)
    return EnrolmentAnswer(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri)


@router.post("/second-factor", dependencies=[Depends(PUBLIC)])
def second_factor(code: Code, request: Request, response: Response) -> StepAnswer:
    """Check a code from the authenticator app (confirming an enrolment, if one is pending)."""
    with transaction(request.app.state.sessions) as db:
        web_session = _session_at(db, request, Stage.ENROL_SECOND_FACTOR, Stage.SECOND_FACTOR)
        outcome = signin.enter_code(
            db, _settings(request), web_session, code.code, remote_addr_of(request), utc_now()
        )
    if isinstance(outcome, signin.Rejection):
        raise _refuse(outcome)
    if outcome.token is not None:
        set_session_cookie(response, outcome.token, _settings(request))
    forget_cached_session(request)
    return StepAnswer(next=outcome.stage, csrf_token=outcome.csrf_token)


@router.post("/new-password", dependencies=[Depends(PUBLIC)])
def new_password(body: NewPassword, request: Request) -> StepAnswer:
    """Replace a one-time password with one the owner chose (at least 12 characters)."""
    try:
        with transaction(request.app.state.sessions) as db:
            web_session = _session_at(db, request, Stage.CHANGE_PASSWORD)
            done = signin.choose_new_password(
                db,
                _hasher(request),
                web_session,
                body.new_password,
                remote_addr_of(request),
                utc_now(),
            )
    except (PasswordPolicyError, AccountError) as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    forget_cached_session(request)
    return StepAnswer(next=done.stage, csrf_token=done.csrf_token)


@router.get("/session", dependencies=[Depends(PUBLIC)])
def current_session(request: Request) -> SessionAnswer:
    """Where this browser's sign-in stands, with its CSRF token (for pages and clients)."""
    state = session_of(request)
    if state is None:
        return SessionAnswer(stage=None, csrf_token=None)
    return SessionAnswer(stage=state.stage, csrf_token=state.csrf_token)


@router.post("/logout", dependencies=[Depends(PUBLIC)], status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, response: Response) -> None:
    """End this session and forget its cookie."""
    with transaction(request.app.state.sessions) as db:
        stages = tuple(Stage)
        web_session = _session_at(db, request, *stages)
        signin.sign_out(db, web_session, remote_addr_of(request), utc_now())
    clear_session_cookie(response, _settings(request))


# OIDC sign-in: included only when it is configured (absent routes answer 404)
oidc_router = APIRouter(prefix="/api/auth/oidc", tags=["sign-in"])
OIDC_COOKIE = "cb_oidc"
OIDC_COOKIE_SECONDS = 600
# where the browser goes once the provider has vouched for it: the second-factor step next
AFTER_OIDC_PATH = "/"


def _oidc_client(request: Request) -> oidc.OidcClient:
    client: oidc.OidcClient = request.app.state.oidc_client
    return client


@oidc_router.get("/start", dependencies=[Depends(PUBLIC)])
def oidc_start(request: Request) -> RedirectResponse:
    """Send the browser to the identity provider, remembering state, nonce and PKCE verifier."""
    pending = oidc.PendingSignIn.new()
    try:
        url = _oidc_client(request).authorization_url(pending)
    except oidc.OidcError:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, "identity provider unavailable") from None
    response = RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)
    # Lax, not Strict: the provider sends the browser back with a cross-site navigation
    response.set_cookie(
        OIDC_COOKIE,
        pending.cookie_value(),
        max_age=OIDC_COOKIE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=_settings(request).secure_cookies,
        path=oidc_router.prefix,
    )
    return response


@oidc_router.get("/callback", dependencies=[Depends(PUBLIC)])
def oidc_callback(
    request: Request,
    code: Annotated[str, Query(max_length=2000)] = "",
    state: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    """Take the provider's answer: a known subject gets a session awaiting its TOTP code."""
    pending = oidc.PendingSignIn.from_cookie(request.cookies.get(OIDC_COOKIE))
    if pending is None or not hmac.compare_digest(state.encode(), pending.state.encode()):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "sign-in not started here")
    if not code:
        # the provider said no (its error parameter), or sent nothing to exchange
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, NOT_ACCEPTED)
    try:
        subject = _oidc_client(request).subject(code, pending)
    except oidc.OidcError:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, NOT_ACCEPTED) from None
    with transaction(request.app.state.sessions) as db:
        outcome = signin.sign_in_with_subject(
            db, _settings(request), subject, remote_addr_of(request), utc_now()
        )
    if isinstance(outcome, signin.Rejection):
        raise _refuse(outcome)
    _done, token = outcome
    # a page, not a redirect: the next request is then same-site, so SameSite=Strict cookies go
    response = HTMLResponse(
        f'<!doctype html><meta http-equiv="refresh" content="0;url={AFTER_OIDC_PATH}">'
        f'<a href="{AFTER_OIDC_PATH}">Continue</a>'
    )
    set_session_cookie(response, token, _settings(request))
    response.delete_cookie(OIDC_COOKIE, path=oidc_router.prefix)
    return response
