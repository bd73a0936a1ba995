"""The route that serves the pages' static files (``assets.py`` says which and how)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import Response

from casebridge.web.pages.assets import LONG_CACHE, SHORT_CACHE
from casebridge.web.pages.render import Pages
from casebridge.web.permissions import PUBLIC

router = APIRouter(include_in_schema=False)


@router.get("/static/{name:path}", dependencies=[Depends(PUBLIC)])
def static_file(request: Request, name: str, v: str = "") -> Response:
    """A static file by its path under ``static/``: only files the service loaded when it
    started, so no path can reach anything else. Served before a sign-in (the sign-in page
    needs its stylesheet); it holds no data."""
    pages: Pages = request.app.state.pages
    asset = pages.assets.get(name)
    if asset is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    cache = LONG_CACHE if v == asset.digest else SHORT_CACHE
    return Response(asset.content, media_type=asset.media_type, headers={"Cache-Control": cache})
