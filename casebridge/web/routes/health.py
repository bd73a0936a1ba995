"""Whether the service is up (the one route a load balancer may call without signing in), and
the API's OpenAPI schema for signed-in clients."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from casebridge.web.permissions import PUBLIC, Permission, Requires

router = APIRouter(tags=["service"])


@router.get("/api/health", dependencies=[Depends(PUBLIC)])
def health() -> dict[str, str]:
    """The service answers."""
    return {"status": "ok"}


@router.get(
    "/api/openapi.json",
    dependencies=[Depends(Requires(Permission.OWN_ACCOUNT))],
    include_in_schema=False,
)
def openapi_schema(request: Request) -> dict[str, Any]:
    """The API's OpenAPI schema, for any signed-in account."""
    schema: dict[str, Any] = request.app.openapi()
    return schema
