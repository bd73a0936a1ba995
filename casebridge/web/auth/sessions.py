"""Sessions: a random token in an HttpOnly, SameSite=Strict cookie; only its SHA-256 is kept.

A session passes through stages: after the password it must enrol or enter the second
factor, then (for a one-time password) choose a new password; only a complete session stands
for its account (``principal_of``). It ends at logout, after ``idle_minutes`` without a
request, after ``absolute_hours`` whatever happens, or when its account is changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from fastapi import Request, Response
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from casebridge.web.auth.times import as_utc
from casebridge.web.config import ServiceSettings
from casebridge.web.db import transaction
from casebridge.web.deps import Principal
from casebridge.web.models import Account, AccountScope, WebSession, utc_now

COOKIE_NAME = "cb_session"
# last_seen_at is written at most this often: idle expiry is exact to within it
TOUCH_EVERY = dt.timedelta(minutes=1)
_CACHE_KEY = "casebridge_session"


class Stage(StrEnum):
    """What a session must do next before it stands for its account."""

    ENROL_SECOND_FACTOR = "enrol_second_factor"
    SECOND_FACTOR = "second_factor"
    CHANGE_PASSWORD = "change_password"
    COMPLETE = "complete"


@dataclass(frozen=True)
class SessionState:
    """What a request's cookie stands for: its session, its account and its stage."""

    session_id: int
    account_id: int
    username: str
    role: str
    scopes: frozenset[str]
    csrf_token: str
    stage: Stage


def token_digest(token: str) -> str:
    """The SHA-256 of a session token: what the database keeps instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def stage_of(account: Account, web_session: WebSession) -> Stage:
    """The step ``web_session`` is at: second factor first, then a forced password change."""
    if not web_session.second_factor_done:
        if account.totp_confirmed:
            return Stage.SECOND_FACTOR
        return Stage.ENROL_SECOND_FACTOR
    if account.must_change_password:
        return Stage.CHANGE_PASSWORD
    return Stage.COMPLETE


def start_session(
    db: Session, account: Account, remote_addr: str | None, at: dt.datetime
) -> tuple[WebSession, str]:
    """A new session for ``account`` awaiting its second factor, and the cookie's token."""
    token = secrets.token_urlsafe(32)
    web_session = WebSession(
        token_hash=token_digest(token),
        account_id=account.id,
        csrf_token=secrets.token_urlsafe(32),
        second_factor_done=False,
        created_at=at,
        last_seen_at=at,
        remote_addr=remote_addr,
    )
    db.add(web_session)
    db.flush()
    return web_session, token


def renew_token(web_session: WebSession) -> str:
    """A new token for a session whose privileges grew, so an old token is worth nothing."""
    token = secrets.token_urlsafe(32)
    web_session.token_hash = token_digest(token)
    return token


def is_expired(web_session: WebSession, at: dt.datetime, settings: ServiceSettings) -> bool:
    """Whether the session has been idle too long or has lived too long."""
    idle = at - as_utc(web_session.last_seen_at)
    age = at - as_utc(web_session.created_at)
    return idle >= dt.timedelta(minutes=settings.idle_minutes) or age >= dt.timedelta(
        hours=settings.absolute_hours
    )


def live_session(
    db: Session, token: str, at: dt.datetime, settings: ServiceSettings
) -> tuple[WebSession, Account] | None:
    """The open, unexpired session ``token`` names, of an active account; an expired one is
    ended on the way. Its last_seen_at moves on (at most once every ``TOUCH_EVERY``)."""
    found = db.execute(
        select(WebSession, Account)
        .join(Account, Account.id == WebSession.account_id)
        .where(WebSession.token_hash == token_digest(token), WebSession.ended_at.is_(None))
    ).first()
    if found is None:
        return None
    web_session, account = found
    if is_expired(web_session, at, settings) or not account.active:
        web_session.ended_at = at
        return None
    if at - as_utc(web_session.last_seen_at) >= TOUCH_EVERY:
        web_session.last_seen_at = at
    return web_session, account


def end_sessions_of(
    db: Session, account_id: int, at: dt.datetime, keep_session_id: int | None = None
) -> None:
    """End every open session of an account (but ``keep_session_id``, if given)."""
    statement = (
        update(WebSession)
        .where(WebSession.account_id == account_id, WebSession.ended_at.is_(None))
        .values(ended_at=at)
    )
    if keep_session_id is not None:
        statement = statement.where(WebSession.id != keep_session_id)
    db.execute(statement)


def scopes_of(db: Session, account_id: int) -> frozenset[str]:
    """The agencies an account may see."""
    rows = db.scalars(select(AccountScope.agency).where(AccountScope.account_id == account_id))
    return frozenset(rows)


def set_session_cookie(response: Response, token: str, settings: ServiceSettings) -> None:
    """Give the browser its token: HttpOnly, SameSite=Strict, Secure unless told otherwise."""
    response.set_cookie(
        COOKIE_NAME,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        path="/",
    )


def clear_session_cookie(response: Response, settings: ServiceSettings) -> None:
    """Tell the browser to forget its token."""
    response.delete_cookie(
        COOKIE_NAME, httponly=True, samesite="strict", secure=settings.secure_cookies, path="/"
    )


def remote_addr_of(request: Request) -> str | None:
    """The address the request came from (the proxy's, unless uvicorn is told to trust it)."""
    return request.client.host if request.client is not None else None


def session_of(request: Request) -> SessionState | None:
    """The session the request's cookie names, looked up once per request."""
    if _CACHE_KEY in request.scope:
        cached: SessionState | None = request.scope[_CACHE_KEY]
        return cached
    state = _look_up(request)
    request.scope[_CACHE_KEY] = state
    return state


def forget_cached_session(request: Request) -> None:
    """Drop the request's looked-up session (after a sign-in step changed it)."""
    request.scope.pop(_CACHE_KEY, None)


def _look_up(request: Request) -> SessionState | None:
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        return None
    settings: ServiceSettings = request.app.state.settings
    with transaction(request.app.state.sessions) as db:
        found = live_session(db, token, utc_now(), settings)
        if found is None:
            return None
        web_session, account = found
        stage = stage_of(account, web_session)
        scopes = scopes_of(db, account.id) if stage is Stage.COMPLETE else frozenset()
        return SessionState(
            session_id=web_session.id,
            account_id=account.id,
            username=account.username,
            role=account.role,
            scopes=scopes,
            csrf_token=web_session.csrf_token,
            stage=stage,
        )


def principal_of(request: Request) -> Principal | None:
    """The account a complete session stands for; None before the sign-in is complete.

    Installed as ``app.state.principal_of``, which ``deps.current_principal`` consults.
    """
    state = session_of(request)
    if state is None or state.stage is not Stage.COMPLETE:
        return None
    return Principal(
        account_id=state.account_id,
        username=state.username,
        role=state.role,
        scopes=state.scopes,
        session_id=state.session_id,
        remote_addr=remote_addr_of(request),
    )
