"""The accounts a service starts with: the first administrator of a new service, and the
demo's accounts of each role (``casebridge demo --serve``)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from casebridge.web.auth import accounts, limits, passwords, totp
from casebridge.web.auth.sessions import end_sessions_of
from casebridge.web.db import transaction
from casebridge.web.models import Account, utc_now
from casebridge.web.permissions import Role
from casebridge.web.trail import record
from casebridge.workspace import SourceSettings, open_workspace

FIRST_ADMINISTRATOR = "admin"
DEMO_PREFIX = "demo-"


@dataclass(frozen=True)
class FirstAdministrator:
    """The first administrator's username and one-time password (printed once)."""

    username: str
    one_time_password: str


@dataclass(frozen=True)
class DemoAccount:
    """A demo account and what a person needs to sign in with it."""

    username: str
    role: Role
    scopes: tuple[str, ...]
    password: str
    totp_secret: str


def create_first_administrator(
    factory: sessionmaker[Session], hasher: PasswordHasher
) -> FirstAdministrator | None:
    """An administrator with a one-time password, if the service has no account yet.

    It must change the password and enrol its second factor at its first sign-in. Returns None
    when any account exists (the credentials are shown once, at the first start only).
    """
    with transaction(factory) as db:
        if db.scalar(select(func.count()).select_from(Account)):
            return None
        made = accounts.create_account(
            db, hasher, username=FIRST_ADMINISTRATOR, role=Role.ADMINISTRATOR
        )
        record(
            db, None, "account.created", subject_kind="account", subject_ids=[str(made.account.id)]
        )
        return FirstAdministrator(made.account.username, made.password)


def demo_scopes(sources: Sequence[SourceSettings]) -> dict[Role, tuple[str, ...]]:
    """Agency scopes for each demo role, from a workspace's sources.

    The reviewer works one agency's cases (the first police force, or the first source); the
    supervisor that agency and every social-care agency (a local review team); the analyst and
    the auditor every agency; the administrator none (it reads no casework).
    """
    agencies = tuple(dict.fromkeys(source.agency for source in sources))
    police = [source.agency for source in sources if source.kind == "police"]
    first = police[:1] or list(agencies[:1])
    social_care = [source.agency for source in sources if source.kind == "social_care"]
    return {
        Role.ANALYST: agencies,
        Role.REVIEWER: tuple(first),
        Role.SUPERVISOR: tuple(dict.fromkeys(first + social_care)),
        Role.AUDITOR: agencies,
        Role.ADMINISTRATOR: (),
    }


def create_demo_accounts(
    factory: sessionmaker[Session], hasher: PasswordHasher, workspace: Path
) -> list[DemoAccount]:
    """One account of each role, scoped from ``workspace``'s sources, signed-in ready: a
    generated password and an enrolled TOTP secret each. Run again, it gives them new ones."""
    scopes = demo_scopes(open_workspace(workspace).settings.sources)
    with transaction(factory) as db:
        return [_demo_account(db, hasher, role, scopes[role], workspace) for role in Role]


def _demo_account(
    db: Session, hasher: PasswordHasher, role: Role, scopes: tuple[str, ...], workspace: Path
) -> DemoAccount:
    username = f"{DEMO_PREFIX}{role.value}"
    password = secrets.token_urlsafe(12)
    account = accounts.find_account(db, username)
    if account is None:
        account = accounts.create_account(
            db, hasher, username=username, role=role, scopes=scopes, password=password
        ).account
        record(db, None, "account.created", subject_kind="account", subject_ids=[str(account.id)])
    else:
        account.password_hash = passwords.hash_password(hasher, password)
        account.role = role.value
        account.active = True
        accounts.set_scopes(db, account, scopes)
        limits.forget_failures(db, limits.username_key(username, workspace))
        end_sessions_of(db, account.id, utc_now())
        record(
            db,
            None,
            "account.password_reset",
            subject_kind="account",
            subject_ids=[str(account.id)],
        )
    account.must_change_password = False
    account.totp_secret = totp.new_secret()
    account.totp_confirmed = True
    account.last_totp_step = None
    return DemoAccount(username, role, scopes, password, account.totp_secret)
