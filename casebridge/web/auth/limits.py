"""Login rate limits: per typed username and per remote address, from the login_attempt table.

A username is locked for ``lockout_minutes`` once ``lockout_after`` failures fall within
``lockout_minutes`` of each other; an address must wait once ``address_attempts`` failures from
it fall within the last ``lockout_minutes``. Unknown usernames are counted exactly as accounts
are, so a lock tells nobody whether an account exists. The table keeps a digest of the typed
username, never the name (someone may type a password into the username box).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from casebridge.web.auth.times import as_utc
from casebridge.web.config import ServiceSettings
from casebridge.web.models import LoginAttempt

# how long attempts are kept at least (longer than any window), then pruned
KEPT_FOR = dt.timedelta(days=1)


class Refusal(StrEnum):
    """Why a sign-in is refused before its password or code is even looked at."""

    USERNAME_LOCKED = "username_locked"
    ADDRESS_LIMITED = "address_limited"


def username_key(username: str) -> str:
    """The digest a typed username is counted under (case and outer spaces ignored)."""
    normal = username.strip().casefold()
    # surrogatepass: any str has a digest, even one no account could have
    return hashlib.sha256(f"casebridge-login:{normal}".encode(errors="surrogatepass")).hexdigest()


def refusal(
    session: Session, key: str, remote_addr: str | None, at: dt.datetime, settings: ServiceSettings
) -> Refusal | None:
    """Whether a sign-in under ``key`` from ``remote_addr`` must wait, and why."""
    if username_locked(session, key, at, settings):
        return Refusal.USERNAME_LOCKED
    if remote_addr is not None:
        since = at - dt.timedelta(minutes=settings.lockout_minutes)
        failures = session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.remote_addr == remote_addr,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at > since,
            )
        )
        if (failures or 0) >= settings.address_attempts:
            return Refusal.ADDRESS_LIMITED
    return None


def username_locked(session: Session, key: str, at: dt.datetime, settings: ServiceSettings) -> bool:
    """Whether the last ``lockout_after`` failures under ``key`` (since its last success) fell
    within ``lockout_minutes`` of each other, the latest less than ``lockout_minutes`` ago."""
    window = dt.timedelta(minutes=settings.lockout_minutes)
    last_success = (
        select(func.max(LoginAttempt.at))
        .where(LoginAttempt.username == key, LoginAttempt.succeeded.is_(True))
        .scalar_subquery()
    )
    latest = session.scalars(
        select(LoginAttempt.at)
        .where(
            LoginAttempt.username == key,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at > at - 2 * window,
            (LoginAttempt.at > last_success) | last_success.is_(None),
        )
        .order_by(LoginAttempt.at.desc())
        .limit(settings.lockout_after)
    ).all()
    if len(latest) < settings.lockout_after:
        return False
    newest, oldest = as_utc(latest[0]), as_utc(latest[-1])
    return newest - oldest < window and at < newest + window


def note_attempt(
    session: Session, key: str, remote_addr: str | None, succeeded: bool, at: dt.datetime
) -> None:
    """Count one sign-in attempt (a password or a second-factor code), and prune old ones."""
    session.add(LoginAttempt(username=key, remote_addr=remote_addr, succeeded=succeeded, at=at))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < at - KEPT_FOR))


def forget_failures(session: Session, key: str) -> None:
    """Lift a lock on ``key`` (an administrator's password reset)."""
    session.execute(
        delete(LoginAttempt).where(LoginAttempt.username == key, LoginAttempt.succeeded.is_(False))
    )
