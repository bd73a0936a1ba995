"""Login rate limits: per typed username and per remote address, from the login_attempt table.

A username is locked for ``lockout_minutes`` once ``lockout_after`` failures fall within
``lockout_minutes`` of each other; an address must wait once ``address_attempts`` failures from
it fall within the last ``lockout_minutes``. Unknown usernames are counted exactly as accounts
are, so a lock tells nobody whether an account exists. The table keeps a digest of the typed
username, never the name (someone may type a password into the username box): an HMAC-SHA-256
keyed with 32 random bytes held outside the database (``CASEBRIDGE_LOGIN_KEY``, or the
workspace's ``service-keys/login-digest.key``; owner-only, made on first use), so that a copy
of the database alone cannot be used to test guesses of what was typed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from enum import StrEnum
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from casebridge.errors import CasebridgeError
from casebridge.web.auth.times import as_utc
from casebridge.web.checkpoints import KEY_FOLDER
from casebridge.web.config import ServiceSettings
from casebridge.web.models import LoginAttempt

# how long attempts are kept at least (longer than any window), then pruned
KEPT_FOR = dt.timedelta(days=1)
DIGEST_KEY_VARIABLE = "CASEBRIDGE_LOGIN_KEY"
DIGEST_KEY_FILE = "login-digest.key"  # in the workspace's service-keys/, beside the trail's key
DIGEST_KEY_BYTES = 32


class LoginKeyError(CasebridgeError):
    """Raised when the key that digests typed usernames cannot be read or made."""


class Refusal(StrEnum):
    """Why a sign-in is refused before its password or code is even looked at."""

    USERNAME_LOCKED = "username_locked"
    ADDRESS_LIMITED = "address_limited"


def digest_key_path(workspace: Path) -> Path:
    """The file of the key typed usernames are digested with: ``CASEBRIDGE_LOGIN_KEY``, or the
    workspace's service-keys/ (where the trail's signing key is made too)."""
    given = os.environ.get(DIGEST_KEY_VARIABLE, "").strip()
    return Path(given) if given else workspace / KEY_FOLDER / DIGEST_KEY_FILE


def digest_key(workspace: Path) -> bytes:
    """The key typed usernames are digested with, made (owner-only) if there is none yet."""
    path = digest_key_path(workspace)
    if not path.exists():
        _make_digest_key(path)
    try:
        key = path.read_bytes()
    except OSError:
        raise LoginKeyError(
            f"cannot read the login digest key {path}; let the service's account read it"
        ) from None
    if len(key) != DIGEST_KEY_BYTES:
        raise LoginKeyError(
            f"{path} is not a login digest key ({DIGEST_KEY_BYTES} bytes); remove it and the "
            "service makes a new one (sign-in failures counted so far are forgotten)"
        )
    return key


def _make_digest_key(path: Path) -> None:
    """Write a new key to ``path`` unless one is there: whole, owner-only, and never over a key
    another process made first (written aside, then linked into place)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        aside = path.with_name(f"{path.name}.{secrets.token_hex(8)}.new")
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(secrets.token_bytes(DIGEST_KEY_BYTES))
        try:
            os.link(aside, path)
        except FileExistsError:  # another process made it first: use theirs
            pass
        finally:
            aside.unlink()
    except OSError:
        raise LoginKeyError(
            f"cannot make the login digest key {path}; let the service's account write there, "
            f"or name another file in {DIGEST_KEY_VARIABLE}"
        ) from None


def username_key(username: str, workspace: Path) -> str:
    """The digest a typed username is counted under (case and outer spaces ignored), keyed with
    the workspace's :func:`digest_key`."""
    normal = username.strip().casefold()
    # surrogatepass: any str has a digest, even one no account could have
    typed = normal.encode(errors="surrogatepass")
    return hmac.new(digest_key(workspace), typed, hashlib.sha256).hexdigest()


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
