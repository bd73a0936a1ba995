"""Administering accounts: the one path the accounts API (``routes/accounts.py``) and the
administration pages (``pages/administration.py``) both take.

Each function works inside the caller's transaction, makes its change through
``auth/accounts.py`` and writes its trail entry (the account by its id, never its name), so a
change is recorded whichever door it came through. An administrator may not change their own
role nor deactivate themselves: another administrator must (and the last active administrator
cannot be demoted or deactivated at all).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casebridge.web.auth import accounts
from casebridge.web.auth.times import as_utc
from casebridge.web.deps import Principal
from casebridge.web.models import Account, AccountScope, WebSession, utc_now
from casebridge.web.permissions import Role
from casebridge.web.trail import record


class AccountNotFoundError(accounts.AccountError):
    """Raised when no account has the id asked for."""


class OwnAccountError(accounts.AccountConflictError):
    """Raised when an administrator asks to change their own role or deactivate themselves."""


@dataclass(frozen=True)
class AccountView:
    """An account as administrators see it: no password hash, no second-factor secret."""

    id: int
    username: str
    display_name: str
    role: Role
    scopes: list[str]
    active: bool
    second_factor_enrolled: bool
    must_change_password: bool
    locked: bool
    oidc_subject: str | None
    created_at: dt.datetime
    last_sign_in: dt.datetime | None


@dataclass(frozen=True)
class AccountChange:
    """What to change: a role, agency scopes, an OIDC subject (``""`` removes it); None keeps."""

    role: Role | None = None
    scopes: Sequence[str] | None = None
    oidc_subject: str | None = None


def view_of(account: Account, scopes: list[str], last_sign_in: dt.datetime | None) -> AccountView:
    """The administrators' view of ``account``."""
    locked_until = account.locked_until
    return AccountView(
        id=account.id,
        username=account.username,
        display_name=account.display_name,
        role=Role(account.role),
        scopes=scopes,
        active=account.active,
        second_factor_enrolled=account.totp_confirmed,
        must_change_password=account.must_change_password,
        locked=locked_until is not None and as_utc(locked_until) > utc_now(),
        oidc_subject=account.oidc_subject,
        created_at=as_utc(account.created_at),
        last_sign_in=None if last_sign_in is None else as_utc(last_sign_in),
    )


def _last_sign_ins(db: Session, account_id: int | None = None) -> dict[int, dt.datetime]:
    """When each account last signed in (the start of its latest session that passed the
    second factor): sessions are ended, never deleted, so this is complete."""
    query = (
        select(WebSession.account_id, func.max(WebSession.created_at))
        .where(WebSession.second_factor_done.is_(True))
        .group_by(WebSession.account_id)
    )
    if account_id is not None:
        query = query.where(WebSession.account_id == account_id)
    return {row[0]: row[1] for row in db.execute(query)}


def list_accounts(db: Session) -> list[AccountView]:
    """Every account, by username (three queries, whatever the number of accounts)."""
    found = db.scalars(select(Account).order_by(Account.username)).all()
    scopes: dict[int, list[str]] = defaultdict(list)
    for account_id, agency in db.execute(
        select(AccountScope.account_id, AccountScope.agency).order_by(AccountScope.agency)
    ):
        scopes[account_id].append(agency)
    last = _last_sign_ins(db)
    return [view_of(account, scopes[account.id], last.get(account.id)) for account in found]


def account_of(db: Session, account_id: int) -> Account:
    """The account with this id, or :class:`AccountNotFoundError`."""
    account = db.get(Account, account_id)
    if account is None:
        raise AccountNotFoundError("no account has this number; pick one from the list")
    return account


def view(db: Session, account: Account) -> AccountView:
    """One account as administrators see it."""
    last = _last_sign_ins(db, account.id).get(account.id)
    return view_of(account, accounts.agencies_of(db, account.id), last)


def _trail(db: Session, principal: Principal, action: str, account: Account) -> None:
    record(db, principal, action, subject_kind="account", subject_ids=[str(account.id)])


def create(
    db: Session,
    hasher: PasswordHasher,
    principal: Principal,
    *,
    username: str,
    role: str,
    scopes: Sequence[str] = (),
    display_name: str | None = None,
) -> accounts.NewAccount:
    """A new account with a one-time password (to show once); it enrols its second factor
    and chooses its own password at first sign-in."""
    made = accounts.create_account(
        db, hasher, username=username, role=role, scopes=scopes, display_name=display_name
    )
    _trail(db, principal, "account.created", made.account)
    return made


def change(db: Session, principal: Principal, account_id: int, wanted: AccountChange) -> Account:
    """Change an account's role, agency scopes or OIDC subject, one trail entry per change
    made (the account's sessions end when its role or subject changes)."""
    account = account_of(db, account_id)
    if wanted.role is not None and wanted.role.value != account.role:
        if account.id == principal.account_id:
            raise OwnAccountError(
                "you cannot change your own role; ask another administrator to change it"
            )
        accounts.set_role(db, account, wanted.role, utc_now())
        _trail(db, principal, "account.role_changed", account)
    if wanted.scopes is not None:
        chosen = accounts.normal_scopes(wanted.scopes)
        if set(chosen) != set(accounts.agencies_of(db, account.id)):  # else nothing changes
            accounts.set_scopes(db, account, chosen)
            _trail(db, principal, "account.scopes_changed", account)
    if wanted.oidc_subject is not None:
        accounts.set_oidc_subject(db, account, wanted.oidc_subject)
        _trail(db, principal, "account.oidc_subject_changed", account)
    return account


def deactivate(db: Session, principal: Principal, account_id: int) -> Account:
    """Stop an account signing in and end its sessions; it stays, for the trail."""
    account = account_of(db, account_id)
    if account.id == principal.account_id:
        raise OwnAccountError("you cannot deactivate your own account; ask another administrator")
    accounts.deactivate(db, account, utc_now())
    _trail(db, principal, "account.deactivated", account)
    return account


def reset_second_factor(db: Session, principal: Principal, account_id: int) -> Account:
    """Forget an account's second factor: it enrols a new one at its next sign-in."""
    account = account_of(db, account_id)
    accounts.reset_second_factor(db, account, utc_now())
    _trail(db, principal, "account.second_factor_reset", account)
    return account


def reset_password(
    db: Session, hasher: PasswordHasher, principal: Principal, account_id: int, workspace: Path
) -> str:
    """A one-time password for an account, to hand to its owner (its sessions end, any lock
    lifts)."""
    account = account_of(db, account_id)
    password = accounts.reset_password(db, hasher, account, utc_now(), workspace)
    _trail(db, principal, "account.password_reset", account)
    return password


def agencies_in_use(db: Session, from_sources: Sequence[str] = ()) -> list[str]:
    """The agencies an administrator can pick as scopes: those of the sources
    (``from_sources``, read from the published results) and those accounts already have."""
    held = db.scalars(select(AccountScope.agency).distinct())
    return sorted(set(from_sources) | set(held))
