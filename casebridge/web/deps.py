"""The signed-in account every protected route receives."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request, status


@dataclass(frozen=True)
class Principal:
    """Who is asking: an account, its role, its agency scopes and the session it came with."""

    account_id: int
    username: str
    role: str
    scopes: frozenset[str]
    session_id: int | None = None
    remote_addr: str | None = None


def current_principal(request: Request) -> Principal:
    """The account behind the request's session; 401 without a complete sign-in.

    ``auth.sessions`` installs the real lookup on ``app.state.principal_of``.
    """
    lookup = getattr(request.app.state, "principal_of", None)
    principal = lookup(request) if lookup is not None else None
    if not isinstance(principal, Principal):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in first")
    return principal
