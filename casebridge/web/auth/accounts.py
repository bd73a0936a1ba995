"""Accounts: create one, change its role or scopes, deactivate it, reset its password or second
factor. Each function works inside the caller's transaction; the caller writes the trail."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from casebridge.errors import CasebridgeError
from casebridge.web.auth import limits, passwords, totp
from casebridge.web.auth.sessions import end_sessions_of
from casebridge.web.models import Account, AccountScope, utc_now
from casebridge.web.permissions import Role

USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
AGENCY_LENGTH = 200
DISPLAY_NAME_LENGTH = 200


class AccountError(CasebridgeError):
    """Raised when an account cannot be created or changed as asked; says what to change."""


class AccountConflictError(AccountError):
    """Raised when a change would clash with another account or leave no administrator."""


@dataclass(frozen=True)
class NewAccount:
    """An account just made, and the password to give its owner (shown once)."""

    account: Account
    password: str


def normal_username(username: str) -> str:
    """A username as stored: lower case, 3 to 64 letters, digits, dots, dashes, underscores."""
    normal = username.strip().casefold()
    if not USERNAME_PATTERN.fullmatch(normal):
        raise AccountError(
            "a username has 3 to 64 characters: letters a-z, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return normal


def role_of(role: str) -> Role:
    """``role`` as a Role, or an error naming the roles there are."""
    try:
        return Role(role)
    except ValueError:
        known = ", ".join(member.value for member in Role)
        raise AccountError(f"a role is one of: {known}") from None


def normal_scopes(scopes: Iterable[str]) -> list[str]:
    """Agency names without outer spaces or repeats, in the order given."""
    normal: list[str] = []
    for agency in scopes:
        name = agency.strip()
        if not name or len(name) > AGENCY_LENGTH:
            raise AccountError(f"an agency scope has 1 to {AGENCY_LENGTH} characters")
        if name not in normal:
            normal.append(name)
    return normal


def find_account(db: Session, username: str) -> Account | None:
    """The account with this username (any case), if there is one; a name no account could
    have is not even looked up."""
    normal = username.strip().casefold()
    if not USERNAME_PATTERN.fullmatch(normal):
        return None
    return db.scalars(select(Account).where(Account.username == normal)).first()


def create_account(
    db: Session,
    hasher: PasswordHasher,
    *,
    username: str,
    role: str,
    scopes: Iterable[str] = (),
    display_name: str | None = None,
    password: str | None = None,
) -> NewAccount:
    """A new account that must enrol its second factor at first sign-in; without ``password``
    it gets a one-time password that must be changed then too."""
    normal = normal_username(username)
    if find_account(db, normal) is not None:
        raise AccountConflictError("an account with this username exists; choose another")
    chosen = password if password is not None else passwords.one_time_password()
    passwords.check_password_policy(chosen, normal)
    account = Account(
        username=normal,
        display_name=_display_name(display_name, normal),
        role=role_of(role).value,
        password_hash=passwords.hash_password(hasher, chosen),
        totp_confirmed=False,
        active=True,
        must_change_password=password is None,
        failed_logins=0,
    )
    db.add(account)
    db.flush()
    set_scopes(db, account, scopes)
    return NewAccount(account, chosen)


def _display_name(display_name: str | None, username: str) -> str:
    name = (display_name or "").strip() or username
    if len(name) > DISPLAY_NAME_LENGTH:
        raise AccountError(f"a display name has at most {DISPLAY_NAME_LENGTH} characters")
    return name


def set_scopes(db: Session, account: Account, scopes: Iterable[str]) -> None:
    """Replace the agencies an account may see."""
    chosen = normal_scopes(scopes)
    db.execute(delete(AccountScope).where(AccountScope.account_id == account.id))
    db.add_all(AccountScope(account_id=account.id, agency=agency) for agency in chosen)
    db.flush()


def agencies_of(db: Session, account_id: int) -> list[str]:
    """The agencies an account may see, sorted."""
    rows = db.scalars(
        select(AccountScope.agency)
        .where(AccountScope.account_id == account_id)
        .order_by(AccountScope.agency)
    )
    return list(rows)


def set_role(db: Session, account: Account, role: str, at: dt.datetime) -> None:
    """Give an account another role (its sessions end: what it may do has changed)."""
    chosen = role_of(role)
    if chosen is not Role.ADMINISTRATOR:
        _keep_an_administrator(db, account)
    account.role = chosen.value
    end_sessions_of(db, account.id, at)


def set_oidc_subject(db: Session, account: Account, subject: str) -> None:
    """Map an account to the subject an OIDC provider knows it by (``""``: no subject)."""
    chosen = subject.strip() or None
    if chosen is not None:
        holder = db.scalars(select(Account).where(Account.oidc_subject == chosen)).first()
        if holder is not None and holder.id != account.id:
            raise AccountConflictError("another account has this OIDC subject")
    account.oidc_subject = chosen
    end_sessions_of(db, account.id, utc_now())


def deactivate(db: Session, account: Account, at: dt.datetime) -> None:
    """Stop an account from signing in, and end its sessions (it stays, for the trail)."""
    _keep_an_administrator(db, account)
    account.active = False
    end_sessions_of(db, account.id, at)


def _keep_an_administrator(db: Session, account: Account) -> None:
    """Refuse to take away the last active administrator."""
    if account.role != Role.ADMINISTRATOR.value or not account.active:
        return
    others = db.scalar(
        select(func.count())
        .select_from(Account)
        .where(
            Account.role == Role.ADMINISTRATOR.value,
            Account.active.is_(True),
            Account.id != account.id,
        )
    )
    if not others:
        raise AccountConflictError(
            "this is the last active administrator; make another administrator first"
        )


def reset_second_factor(db: Session, account: Account, at: dt.datetime) -> None:
    """Forget an account's second factor: it enrols a new one at its next sign-in."""
    account.totp_secret = None
    account.totp_confirmed = False
    account.last_totp_step = None
    end_sessions_of(db, account.id, at)


def reset_password(
    db: Session, hasher: PasswordHasher, account: Account, at: dt.datetime, workspace: Path
) -> str:
    """Give an account a one-time password (returned, to hand over) and lift any lock (counted
    under the digest :func:`limits.username_key` keys with ``workspace``'s key)."""
    chosen = passwords.one_time_password()
    account.password_hash = passwords.hash_password(hasher, chosen)
    account.must_change_password = True
    account.failed_logins = 0
    account.locked_until = None
    limits.forget_failures(db, limits.username_key(account.username, workspace))
    end_sessions_of(db, account.id, at)
    return chosen


def change_password(
    db: Session,
    hasher: PasswordHasher,
    account: Account,
    new_password: str,
    at: dt.datetime,
    keep_session_id: int | None,
) -> None:
    """Set a password the owner chose; every other session of the account ends."""
    passwords.check_password_policy(new_password, account.username)
    if passwords.verify_password(hasher, account.password_hash, new_password):
        raise passwords.PasswordPolicyError("choose a password other than the current one")
    account.password_hash = passwords.hash_password(hasher, new_password)
    account.must_change_password = False
    end_sessions_of(db, account.id, at, keep_session_id=keep_session_id)


def begin_enrolment(account: Account) -> str:
    """A new TOTP secret for an account that has not confirmed one (replacing any earlier)."""
    if account.totp_confirmed:
        raise AccountConflictError("this account's second factor is already enrolled")
    account.totp_secret = totp.new_secret()
    account.last_totp_step = None
    return account.totp_secret
