"""Roles, what each may do, and the permission every route declares.

A route declares its permission with a dependency: ``Depends(Requires(Permission.X))``, or
``Depends(PUBLIC)`` for the few routes served before a login. ``create_app`` refuses an
application with a route that declares none, and the route × role × scope matrix test is
generated from these declarations.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from casebridge.web.deps import Principal, current_principal


class Role(StrEnum):
    """What an account is for."""

    ANALYST = "analyst"
    REVIEWER = "reviewer"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"


class Permission(StrEnum):
    """One thing a route lets an account do."""

    # an account's own sign-in: its second factor, its password
    OWN_ACCOUNT = "own_account"
    # persons, records, events, networks and review items in scope (victims masked)
    READ_CASEWORK = "read_casework"
    # victims' names, birth dates, addresses and contact details
    READ_VICTIM_DETAILS = "read_victim_details"
    SEARCH = "search"
    # status, notes and self-assignment of review items
    WORK_ITEMS = "work_items"
    ASSIGN_OTHERS = "assign_others"
    JUDGE_PAIRS = "judge_pairs"
    EXPORT_NETWORKS = "export_networks"
    # break-glass accesses flagged for review
    REVIEW_FLAGS = "review_flags"
    READ_PUBLISHED_STATISTICS = "read_published_statistics"
    READ_INTERNAL_STATISTICS = "read_internal_statistics"
    READ_TRAIL = "read_trail"
    MANAGE_ACCOUNTS = "manage_accounts"
    # file a report under the mandatory duty to report child sexual abuse (docs/pages.md)
    FILE_DUTY_REPORT = "file_duty_report"


_CASEWORK = {
    Permission.OWN_ACCOUNT,
    Permission.READ_CASEWORK,
    Permission.SEARCH,
    Permission.READ_PUBLISHED_STATISTICS,
    Permission.FILE_DUTY_REPORT,
}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ANALYST: frozenset(
        _CASEWORK | {Permission.EXPORT_NETWORKS, Permission.READ_INTERNAL_STATISTICS}
    ),
    Role.REVIEWER: frozenset(
        _CASEWORK | {Permission.READ_VICTIM_DETAILS, Permission.WORK_ITEMS, Permission.JUDGE_PAIRS}
    ),
    Role.SUPERVISOR: frozenset(
        _CASEWORK
        | {
            Permission.READ_VICTIM_DETAILS,
            Permission.WORK_ITEMS,
            Permission.JUDGE_PAIRS,
            Permission.ASSIGN_OTHERS,
            Permission.EXPORT_NETWORKS,
            Permission.REVIEW_FLAGS,
            Permission.READ_INTERNAL_STATISTICS,
        }
    ),
    # auditors read the trail; they see ids, never the people behind them
    Role.AUDITOR: frozenset(
        {Permission.OWN_ACCOUNT, Permission.READ_TRAIL, Permission.READ_PUBLISHED_STATISTICS}
    ),
    # administrators manage accounts; they do not read casework
    Role.ADMINISTRATOR: frozenset({Permission.OWN_ACCOUNT, Permission.MANAGE_ACCOUNTS}),
}


def allowed(role: str, permission: Permission) -> bool:
    """Whether ``role`` may do ``permission``."""
    return permission in ROLE_PERMISSIONS.get(Role(role), frozenset())


class Requires:
    """The dependency a route declares its permission with; it yields the signed-in account."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(self, principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not allowed(principal.role, self.permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "your role may not do this")
        return principal


class Public:
    """The declaration of a route served before a login (sign-in, health)."""

    permission = None

    def __call__(self) -> None:
        return None


PUBLIC = Public()


def permission_of(route: APIRoute) -> Permission | None | Public:
    """The permission ``route`` declares: a Permission, or PUBLIC; None if it declares none."""
    for dependency in route.dependant.dependencies:
        if isinstance(dependency.call, Requires):
            return dependency.call.permission
        if isinstance(dependency.call, Public):
            return dependency.call
    return None


@dataclass(frozen=True)
class DeclaredRoute:
    """One API route as served: its full path, its methods, and what it declares."""

    path: str
    methods: frozenset[str]
    route: APIRoute


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[DeclaredRoute]:
    """Every API route of an application, included routers' routes with their full paths."""
    for context in iter_route_contexts(routes):
        original = context.original_route
        if isinstance(original, APIRoute):
            yield DeclaredRoute(
                path=context.path or original.path,
                methods=frozenset(context.methods or original.methods or ()),
                route=original,
            )
