"""The administration pages: accounts, their roles and agency scopes, deactivation, and resets
of a second factor or a password (docs/pages.md, "Administration").

Every route declares ``manage_accounts``, as the accounts API's do, and every change goes
through the same service (:mod:`casebridge.web.administration`), which writes the trail entry
(the account by its id). A one-time password is shown once, in the answer to the form that made
it, never in an address; a change refused (a username taken, one's own role, the last
administrator) shows the form again with why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

from argon2 import PasswordHasher
from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from casebridge.web import administration
from casebridge.web.auth import accounts
from casebridge.web.auth.passwords import PasswordPolicyError
from casebridge.web.db import transaction
from casebridge.web.deps import Principal
from casebridge.web.pages.render import Pages
from casebridge.web.permissions import Permission, Requires, Role
from casebridge.web.snapshot import NoSnapshotError, SnapshotStore

router = APIRouter(include_in_schema=False)
Administrator = Annotated[Principal, Depends(Requires(Permission.MANAGE_ACCOUNTS))]
# an account's number, as the API takes it (PostgreSQL's BIGINT: a larger one names nothing)
AccountId = Annotated[int, Path(ge=1, le=2**63 - 1)]
ROLE_WORDS = {
    Role.ANALYST: "Analyst",
    Role.REVIEWER: "Reviewer",
    Role.SUPERVISOR: "Supervisor",
    Role.AUDITOR: "Auditor",
    Role.ADMINISTRATOR: "Administrator",
}
# what a redirect after a change says (?done=KEY: a fixed word, never a value)
DONE = {
    "changed": "The role and agencies are saved.",
    "deactivated": "The account is deactivated: it cannot sign in, and its sessions ended.",
    "second_factor": "The second factor is reset: the account enrols a new one at its next "
    "sign-in.",
}
OTHER_AGENCIES_LIMIT = 4000


def _pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def _hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.password_hasher
    return hasher


def _go(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=status.HTTP_303_SEE_OTHER)


@contextmanager
def _store(request: Request) -> Iterator[Session]:
    with transaction(request.app.state.sessions) as db:
        yield db


def _source_agencies(request: Request) -> list[str]:
    """The agencies of the published results' sources (none before a first publication)."""
    store: SnapshotStore = request.app.state.snapshots
    try:
        with store.reading() as reader:
            if not reader.has("source"):
                return []
            rows = reader.dicts("SELECT DISTINCT agency FROM source WHERE agency IS NOT NULL")
    except NoSnapshotError:
        return []
    return [str(row["agency"]) for row in rows]


def _scopes_from(chosen: list[str], others: str) -> list[str]:
    """The agencies ticked, and any typed one a line."""
    typed = [line.strip() for line in others.splitlines() if line.strip()]
    return [*chosen, *typed]


def _refusal_status(error: Exception) -> int:
    if isinstance(error, administration.AccountNotFoundError):
        return status.HTTP_404_NOT_FOUND
    if isinstance(error, accounts.AccountConflictError):
        return status.HTTP_409_CONFLICT
    return status.HTTP_422_UNPROCESSABLE_CONTENT


Refusable = (accounts.AccountError, PasswordPolicyError, ValueError)


# ---- the list ----------------------------------------------------------------------------


@router.get("/admin/accounts")
def accounts_page(request: Request, principal: Administrator) -> Response:
    """Every account: username, role, agencies, active, second factor, last sign-in."""
    with _store(request) as db:
        listed = administration.list_accounts(db)
    return _pages(request).render(
        request,
        "admin_accounts.html",
        {"accounts": listed, "roles": ROLE_WORDS, "me_id": principal.account_id},
    )


# ---- a new account -----------------------------------------------------------------------


def _new_form(
    request: Request,
    message: str | None = None,
    typed: dict[str, object] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    with _store(request) as db:
        agencies = administration.agencies_in_use(db, _source_agencies(request))
    return _pages(request).render(
        request,
        "admin_new_account.html",
        {
            "roles": ROLE_WORDS,
            "agencies": agencies,
            "typed": typed or {},
            "message": message,
        },
        status_code=status_code,
    )


@router.get("/admin/accounts/new")
def new_account_page(request: Request, principal: Administrator) -> Response:
    """The form for a new account: username, display name, role, agencies."""
    return _new_form(request)


@router.post("/admin/accounts")
def create_account(
    request: Request,
    principal: Administrator,
    username: Annotated[str, Form(max_length=100)],
    role: Annotated[str, Form(max_length=40)],
    display_name: Annotated[str, Form(max_length=accounts.DISPLAY_NAME_LENGTH)] = "",
    scopes: Annotated[list[str] | None, Form(max_length=200)] = None,
    other_agencies: Annotated[str, Form(max_length=OTHER_AGENCIES_LIMIT)] = "",
) -> Response:
    """Make the account and show its one-time password, once."""
    chosen = _scopes_from(scopes or [], other_agencies)
    typed: dict[str, object] = {"username": username, "role": role, "scopes": chosen}
    typed["display_name"] = display_name
    try:
        with _store(request) as db:
            made = administration.create(
                db,
                _hasher(request),
                principal,
                username=username,
                role=role,
                scopes=chosen,
                display_name=display_name or None,
            )
            shown = administration.view(db, made.account)
    except Refusable as refused:
        return _new_form(request, _said(refused), typed, _refusal_status(refused))
    return _pages(request).render(
        request,
        "admin_password.html",
        {"account": shown, "password": made.password, "made": True, "roles": ROLE_WORDS},
        status_code=status.HTTP_201_CREATED,
    )


def _said(refused: Exception) -> str:
    """What a refusal says: the service's own one-line message; a form value that does not
    parse is named as such, never echoed."""
    if isinstance(refused, accounts.AccountError | PasswordPolicyError):
        return str(refused)
    return "That was not accepted: check the form and try again."


# ---- one account -------------------------------------------------------------------------


def _account_page(
    request: Request,
    principal: Principal,
    account_id: int,
    message: str | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    with _store(request) as db:
        try:
            shown = administration.view(db, administration.account_of(db, account_id))
        except administration.AccountNotFoundError:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such account") from None
        agencies = administration.agencies_in_use(db, _source_agencies(request))
    done = request.query_params.get("done", "")
    return _pages(request).render(
        request,
        "admin_account.html",
        {
            "account": shown,
            "roles": ROLE_WORDS,
            "agencies": sorted(set(agencies) | set(shown.scopes)),
            "is_me": shown.id == principal.account_id,
            "message": message,
            "done": DONE.get(done) if message is None else None,
        },
        status_code=status_code,
    )


@router.get("/admin/accounts/{account_id}")
def account_page(request: Request, principal: Administrator, account_id: AccountId) -> Response:
    """One account, with the forms that change it."""
    return _account_page(request, principal, account_id)


def _change(
    request: Request,
    principal: Principal,
    account_id: int,
    act: Callable[[Session], object],
    done: str,
) -> Response:
    """Make one change, then show the account again (post/redirect/get); a change refused
    shows the account with why."""
    try:
        with _store(request) as db:
            act(db)
    except administration.AccountNotFoundError:
        return _account_page(request, principal, account_id)  # its 404 page
    except Refusable as refused:
        return _account_page(
            request, principal, account_id, _said(refused), _refusal_status(refused)
        )
    return _go(f"/admin/accounts/{account_id}?done={done}")


@router.post("/admin/accounts/{account_id}")
def change_account(
    request: Request,
    principal: Administrator,
    account_id: AccountId,
    role: Annotated[str, Form(max_length=40)],
    scopes: Annotated[list[str] | None, Form(max_length=200)] = None,
    other_agencies: Annotated[str, Form(max_length=OTHER_AGENCIES_LIMIT)] = "",
) -> Response:
    """Change the account's role and agencies (not one's own role)."""

    def act(db: Session) -> object:
        wanted = administration.AccountChange(
            role=accounts.role_of(role), scopes=_scopes_from(scopes or [], other_agencies)
        )
        return administration.change(db, principal, account_id, wanted)

    return _change(request, principal, account_id, act, "changed")


@router.post("/admin/accounts/{account_id}/deactivate")
def deactivate_account(
    request: Request, principal: Administrator, account_id: AccountId
) -> Response:
    """Stop the account signing in (not one's own)."""
    return _change(
        request,
        principal,
        account_id,
        lambda db: administration.deactivate(db, principal, account_id),
        "deactivated",
    )


@router.post("/admin/accounts/{account_id}/reset-second-factor")
def reset_second_factor(
    request: Request, principal: Administrator, account_id: AccountId
) -> Response:
    """Forget the account's second factor: it enrols a new one at its next sign-in."""
    return _change(
        request,
        principal,
        account_id,
        lambda db: administration.reset_second_factor(db, principal, account_id),
        "second_factor",
    )


@router.post("/admin/accounts/{account_id}/reset-password")
def reset_password(request: Request, principal: Administrator, account_id: AccountId) -> Response:
    """Give the account a one-time password, shown once here."""
    try:
        with _store(request) as db:
            password = administration.reset_password(
                db, _hasher(request), principal, account_id, request.app.state.settings.workspace
            )
            shown = administration.view(db, administration.account_of(db, account_id))
    except administration.AccountNotFoundError:
        return _account_page(request, principal, account_id)
    return _pages(request).render(
        request,
        "admin_password.html",
        {"account": shown, "password": password, "made": False, "roles": ROLE_WORDS},
    )
