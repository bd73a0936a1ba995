"""The sign-in steps: password, second factor (enrolling it first if need be), a new password
in place of a one-time one, and sign-out. Each step writes the trail (ids only) and counts
its attempt for the rate limits, in the caller's transaction.

Every refusal looks the same whatever the reason (unknown username, wrong password, inactive
account), and an unknown username costs the same argon2 work as a wrong password.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from casebridge.web.auth import accounts, limits, oidc, passwords, totp
from casebridge.web.auth.sessions import Stage, renew_token, stage_of
from casebridge.web.auth.sessions import start_session as open_session
from casebridge.web.config import ServiceSettings
from casebridge.web.deps import Principal
from casebridge.web.models import Account, WebSession
from casebridge.web.trail import record


class Rejection(StrEnum):
    """Why a sign-in step failed, as much as the client may know."""

    NOT_ACCEPTED = "not_accepted"
    TOO_MANY_ATTEMPTS = "too_many_attempts"


@dataclass(frozen=True)
class StepDone:
    """A sign-in step that succeeded: what comes next, the session's CSRF token, and a new
    cookie token when the step changed it."""

    stage: Stage
    csrf_token: str
    token: str | None = None


@dataclass(frozen=True)
class Enrolment:
    """A new second-factor secret, shown once, and the URI an authenticator app reads."""

    secret: str
    otpauth_uri: str


def actor(account: Account, remote_addr: str | None) -> Principal:
    """The account as the trail names it while it signs in."""
    return Principal(
        account_id=account.id,
        username=account.username,
        role=account.role,
        scopes=frozenset(),
        remote_addr=remote_addr,
    )


def _trail(
    db: Session,
    action: str,
    account: Account | None,
    remote_addr: str | None,
    acting: bool = True,
    reason: str | None = None,
) -> None:
    """One trail entry about an account's sign-in; ``acting``: the account is the actor."""
    principal = actor(account, remote_addr) if account is not None and acting else None
    subject_ids = [str(account.id)] if account is not None else []
    record(
        db,
        principal,
        action,
        subject_kind="account",
        subject_ids=subject_ids,
        reason=reason,
        remote_addr=remote_addr,
    )


def sign_in_with_password(
    db: Session,
    hasher: PasswordHasher,
    settings: ServiceSettings,
    username: str,
    password: str,
    remote_addr: str | None,
    at: dt.datetime,
) -> tuple[StepDone, str] | Rejection:
    """The first step: a session awaiting its second factor and its cookie token, or why not."""
    key = limits.username_key(username, settings.workspace)
    account = accounts.find_account(db, username)
    if account is not None and not account.active:
        account = None
    refused = limits.refusal(db, key, remote_addr, at, settings)
    if refused is not None:
        _trail(db, "sign_in.refused", account, remote_addr, acting=False, reason=refused.value)
        return Rejection.TOO_MANY_ATTEMPTS
    stored_hash = account.password_hash if account is not None else None
    if not passwords.verify_password(hasher, stored_hash, password):
        _count_failure(db, settings, key, account, remote_addr, at)
        _trail(db, "sign_in.failed", account, remote_addr, acting=False, reason="password")
        return Rejection.NOT_ACCEPTED
    assert account is not None and account.password_hash is not None
    if passwords.needs_rehash(hasher, account.password_hash):
        account.password_hash = passwords.hash_password(hasher, password)
    web_session, token = open_session(db, account, remote_addr, at)
    _trail(db, "sign_in.password_accepted", account, remote_addr)
    return StepDone(stage_of(account, web_session), web_session.csrf_token), token


def _count_failure(
    db: Session,
    settings: ServiceSettings,
    key: str,
    account: Account | None,
    remote_addr: str | None,
    at: dt.datetime,
) -> None:
    """Count a failed attempt; an account shows its lock (``locked_until``) to administrators."""
    limits.note_attempt(db, key, remote_addr, succeeded=False, at=at)
    if account is None:
        return
    account.failed_logins += 1
    if limits.username_locked(db, key, at, settings):
        account.locked_until = at + dt.timedelta(minutes=settings.lockout_minutes)


def begin_enrolment(db: Session, web_session: WebSession) -> Enrolment:
    """A fresh secret for a session whose account has no confirmed second factor."""
    account = db.get_one(Account, web_session.account_id)
    secret = accounts.begin_enrolment(account)
    return Enrolment(secret, totp.provisioning_uri(secret, account.username))


def enter_code(
    db: Session,
    settings: ServiceSettings,
    web_session: WebSession,
    code: str,
    remote_addr: str | None,
    at: dt.datetime,
) -> StepDone | Rejection:
    """The second step: a code from the account's authenticator (confirming an enrolment, if
    that is what the session awaits). Success renews the session's token."""
    account = db.get_one(Account, web_session.account_id)
    key = limits.username_key(account.username, settings.workspace)
    refused = limits.refusal(db, key, remote_addr, at, settings)
    if refused is not None:
        _trail(db, "sign_in.refused", account, remote_addr, acting=False, reason=refused.value)
        return Rejection.TOO_MANY_ATTEMPTS
    step = None
    if account.totp_secret is not None:
        step = totp.accepted_step(account.totp_secret, code, account.last_totp_step, at)
    if step is None:
        _count_failure(db, settings, key, account, remote_addr, at)
        _trail(db, "sign_in.failed", account, remote_addr, acting=False, reason="second_factor")
        return Rejection.NOT_ACCEPTED
    if not account.totp_confirmed:
        account.totp_confirmed = True
        _trail(db, "account.second_factor_enrolled", account, remote_addr)
    account.last_totp_step = step
    account.failed_logins = 0
    account.locked_until = None
    web_session.second_factor_done = True
    limits.note_attempt(db, key, remote_addr, succeeded=True, at=at)
    _trail(db, "sign_in.second_factor_accepted", account, remote_addr)
    return StepDone(
        stage_of(account, web_session), web_session.csrf_token, renew_token(web_session)
    )


def choose_new_password(
    db: Session,
    hasher: PasswordHasher,
    web_session: WebSession,
    new_password: str,
    remote_addr: str | None,
    at: dt.datetime,
) -> StepDone:
    """The last step after a one-time password: the owner's own (raises PasswordPolicyError)."""
    account = db.get_one(Account, web_session.account_id)
    accounts.change_password(db, hasher, account, new_password, at, web_session.id)
    _trail(db, "account.password_changed", account, remote_addr)
    return StepDone(stage_of(account, web_session), web_session.csrf_token)


def sign_out(
    db: Session, web_session: WebSession, remote_addr: str | None, at: dt.datetime
) -> None:
    """End one session."""
    web_session.ended_at = at
    account = db.get_one(Account, web_session.account_id)
    _trail(db, "sign_out", account, remote_addr)


def change_own_password(
    db: Session,
    hasher: PasswordHasher,
    settings: ServiceSettings,
    principal: Principal,
    current_password: str,
    new_password: str,
    at: dt.datetime,
) -> Rejection | None:
    """A signed-in account's new password, if its current one is right (counted as a sign-in
    attempt, so a session left open cannot be used to guess it); raises PasswordPolicyError."""
    account = db.get_one(Account, principal.account_id)
    key = limits.username_key(account.username, settings.workspace)
    if limits.refusal(db, key, principal.remote_addr, at, settings) is not None:
        return Rejection.TOO_MANY_ATTEMPTS
    if not passwords.verify_password(hasher, account.password_hash, current_password):
        _count_failure(db, settings, key, account, principal.remote_addr, at)
        _trail(db, "account.password_change_refused", account, principal.remote_addr)
        return Rejection.NOT_ACCEPTED
    accounts.change_password(db, hasher, account, new_password, at, principal.session_id)
    _trail(db, "account.password_changed", account, principal.remote_addr)
    return None


def sign_in_with_subject(
    db: Session,
    settings: ServiceSettings,
    subject: str,
    remote_addr: str | None,
    at: dt.datetime,
) -> tuple[StepDone, str] | Rejection:
    """The first step through OIDC: the provider vouched for ``subject``; a session awaiting
    the second factor if an active account has it, else a refusal."""
    key = limits.username_key(f"oidc:{subject}", settings.workspace)
    account = oidc.account_for_subject(db, subject)
    refused = limits.refusal(db, key, remote_addr, at, settings)
    if refused is not None:
        _trail(db, "sign_in.refused", account, remote_addr, acting=False, reason=refused.value)
        return Rejection.TOO_MANY_ATTEMPTS
    if account is None:
        limits.note_attempt(db, key, remote_addr, succeeded=False, at=at)
        _trail(db, "sign_in.failed", None, remote_addr, acting=False, reason="oidc_subject")
        return Rejection.NOT_ACCEPTED
    web_session, token = open_session(db, account, remote_addr, at)
    _trail(db, "sign_in.oidc_accepted", account, remote_addr)
    return StepDone(stage_of(account, web_session), web_session.csrf_token), token
