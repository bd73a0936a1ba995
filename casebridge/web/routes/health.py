"""Whether the service is up: the one route a load balancer may call without signing in."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from casebridge.web.permissions import PUBLIC

router = APIRouter(tags=["service"])


@router.get("/api/health", dependencies=[Depends(PUBLIC)])
def health() -> dict[str, str]:
    """The service answers."""
    return {"status": "ok"}
