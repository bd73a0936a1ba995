"""The accounts API (docs/service.md, "Accounts and roles"): one's own account, and the
administrators' list of accounts. Every write is a trail entry naming the account by its id."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from argon2 import PasswordHasher
from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from casebridge.web import administration
from casebridge.web.auth import accounts, signin
from casebridge.web.auth.passwords import MAXIMUM_LENGTH, PasswordPolicyError
from casebridge.web.auth.text import PrintableText, StorableText
from casebridge.web.db import transaction
from casebridge.web.deps import Principal
from casebridge.web.models import utc_now
from casebridge.web.permissions import Permission, Requires, Role
from casebridge.web.refusals import UNPROCESSABLE

router = APIRouter(tags=["accounts"], responses=UNPROCESSABLE)

OwnAccount = Annotated[Principal, Depends(Requires(Permission.OWN_ACCOUNT))]
Administrator = Annotated[Principal, Depends(Requires(Permission.MANAGE_ACCOUNTS))]
# PostgreSQL's BIGINT: a larger id names no account (and must not reach the database)
AccountId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Agency = Annotated[PrintableText, Field(min_length=1, max_length=accounts.AGENCY_LENGTH)]
Scopes = Annotated[list[Agency], Field(max_length=200)]


class MeAnswer(BaseModel):
    """The signed-in account: its username, role and agency scopes, nothing else."""

    username: str
    role: Role
    scopes: list[str]


class PasswordChange(BaseModel):
    """The current password, and the new one (at least 12 characters, not the username)."""

    current_password: StorableText = Field(max_length=MAXIMUM_LENGTH * 4)
    new_password: StorableText = Field(max_length=MAXIMUM_LENGTH * 4)


class AccountAnswer(BaseModel):
    """An account as administrators see it."""

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
    last_sign_in: dt.datetime | None = Field(
        description="When the account last signed in (second factor and all); null if never."
    )

    @classmethod
    def of(cls, seen: administration.AccountView) -> AccountAnswer:
        """The administrators' view as the API gives it."""
        return cls(**vars(seen))


class NewAccountRequest(BaseModel):
    """A new account: username, role, agency scopes (names of agencies in casebridge.toml)."""

    username: StorableText = Field(max_length=64)
    display_name: PrintableText | None = Field(
        default=None, max_length=accounts.DISPLAY_NAME_LENGTH
    )
    role: Role
    scopes: Scopes = []


class AccountChange(BaseModel):
    """A new role, new agency scopes, the subject an OIDC provider knows the account by
    (``""`` to remove it), or any of them."""

    role: Role | None = None
    scopes: Scopes | None = None
    oidc_subject: PrintableText | None = Field(default=None, max_length=400)


class NewAccountAnswer(BaseModel):
    """The account made, and its one-time password (shown once; changed at first sign-in)."""

    account: AccountAnswer
    one_time_password: str


class PasswordResetAnswer(BaseModel):
    """A one-time password to hand to the account's owner (shown once)."""

    one_time_password: str


def _hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.password_hasher
    return hasher


@contextmanager
def _writing(request: Request) -> Iterator[Session]:
    """A transaction whose account errors become 404 (no such account), 409 (a clash: another
    account's username, the last administrator, one's own role) or 422 (a bad value)."""
    try:
        with transaction(request.app.state.sessions) as db:
            yield db
    except administration.AccountNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such account") from None
    except accounts.AccountConflictError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    except (accounts.AccountError, PasswordPolicyError) as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None


@router.get("/api/me")
def me(principal: OwnAccount) -> MeAnswer:
    """The signed-in account's username, role and agency scopes."""
    return MeAnswer(
        username=principal.username, role=Role(principal.role), scopes=sorted(principal.scopes)
    )


@router.post("/api/me/password", status_code=status.HTTP_204_NO_CONTENT)
def change_my_password(body: PasswordChange, principal: OwnAccount, request: Request) -> None:
    """Change one's own password; every other session of the account ends."""
    with _writing(request) as db:
        refused = signin.change_own_password(
            db,
            _hasher(request),
            request.app.state.settings,
            principal,
            body.current_password,
            body.new_password,
            utc_now(),
        )
    if refused is signin.Rejection.TOO_MANY_ATTEMPTS:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many failed attempts")
    if refused is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "current password not accepted")


@router.get("/api/accounts")
def list_accounts(principal: Administrator, request: Request) -> list[AccountAnswer]:
    """Every account, by username."""
    with transaction(request.app.state.sessions) as db:
        return [AccountAnswer.of(seen) for seen in administration.list_accounts(db)]


@router.post("/api/accounts", status_code=status.HTTP_201_CREATED)
def create_account(
    body: NewAccountRequest, principal: Administrator, request: Request
) -> NewAccountAnswer:
    """A new account with a one-time password; it enrols its second factor at first sign-in."""
    with _writing(request) as db:
        made = administration.create(
            db,
            _hasher(request),
            principal,
            username=body.username,
            role=body.role,
            scopes=body.scopes,
            display_name=body.display_name,
        )
        answer = AccountAnswer.of(administration.view(db, made.account))
    return NewAccountAnswer(account=answer, one_time_password=made.password)


@router.get("/api/accounts/{account_id}")
def get_account(account_id: AccountId, principal: Administrator, request: Request) -> AccountAnswer:
    """One account."""
    with _writing(request) as db:
        return AccountAnswer.of(administration.view(db, administration.account_of(db, account_id)))


@router.patch("/api/accounts/{account_id}")
def change_account(
    account_id: AccountId, body: AccountChange, principal: Administrator, request: Request
) -> AccountAnswer:
    """Change an account's role, agency scopes or OIDC subject (its sessions end when its role
    or subject changes). An administrator cannot change their own role (409)."""
    wanted = administration.AccountChange(body.role, body.scopes, body.oidc_subject)
    with _writing(request) as db:
        account = administration.change(db, principal, account_id, wanted)
        return AccountAnswer.of(administration.view(db, account))


@router.post("/api/accounts/{account_id}/deactivate")
def deactivate_account(
    account_id: AccountId, principal: Administrator, request: Request
) -> AccountAnswer:
    """Stop an account signing in and end its sessions; it stays, for the trail. An
    administrator cannot deactivate themselves (409)."""
    with _writing(request) as db:
        account = administration.deactivate(db, principal, account_id)
        return AccountAnswer.of(administration.view(db, account))


@router.post("/api/accounts/{account_id}/reset-second-factor")
def reset_second_factor(
    account_id: AccountId, principal: Administrator, request: Request
) -> AccountAnswer:
    """Forget an account's second factor: it enrols a new one at its next sign-in."""
    with _writing(request) as db:
        account = administration.reset_second_factor(db, principal, account_id)
        return AccountAnswer.of(administration.view(db, account))


@router.post("/api/accounts/{account_id}/reset-password")
def reset_password(
    account_id: AccountId, principal: Administrator, request: Request
) -> PasswordResetAnswer:
    """A one-time password for an account (its sessions end, any lock lifts)."""
    with _writing(request) as db:
        password = administration.reset_password(
            db, _hasher(request), principal, account_id, request.app.state.settings.workspace
        )
    return PasswordResetAnswer(one_time_password=password)
