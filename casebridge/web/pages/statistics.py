"""The data quality and statistics pages: the audit report of the current snapshot, served by
role. Everyone who may read published statistics gets the published version (disclosure
control: small counts suppressed, the rest rounded); roles allowed unsuppressed counts
(``read_internal_statistics``) may open the internal one too (exact counts, marked internal on
every section, and a trail entry each time).

The report is the audit stage's own (``casebridge report``), made from the snapshot's audit
tables; the service serves its stylesheet and script as static files
(``/static/audit/report.css``, ``/static/audit/report.js``), since its CSP refuses the inline
ones the stand-alone file carries.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from casebridge.audit.report import LinkedAssets
from casebridge.web.pages.assets import Asset, asset_of
from casebridge.web.pages.casework import Access
from casebridge.web.pages.render import Pages
from casebridge.web.permissions import Permission, Requires
from casebridge.web.services.statistics import NEEDED, REPORT_ASSETS

router = APIRouter(include_in_schema=False)


def _pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def report_assets() -> dict[str, Asset]:
    """The audit report's stylesheet and script, as static files by their served names."""
    return {name: asset_of(path) for name, path in REPORT_ASSETS.items()}


def _report(request: Request, access: Access, internal: bool) -> Response:
    pages = _pages(request)
    linked = LinkedAssets(pages.asset("audit/report.css"), pages.asset("audit/report.js"))
    workspace = request.app.state.settings.workspace
    return HTMLResponse(access.audit_report(internal, workspace, linked))


@router.get("/statistics", dependencies=[Depends(Requires(Permission.READ_PUBLISHED_STATISTICS))])
def statistics(request: Request, access: Access) -> Response:
    """What the statistics pages offer this role, and whether the audit has run."""
    internal = access.can(Permission.READ_INTERNAL_STATISTICS)
    return _pages(request).render(
        request,
        "statistics.html",
        {
            "snapshot": access.reader.snapshot,
            "audited": access.reader.has(NEEDED[False]),
            "internal": internal,
        },
    )


@router.get(
    "/statistics/report",
    dependencies=[Depends(Requires(Permission.READ_PUBLISHED_STATISTICS))],
)
def published_report(request: Request, access: Access) -> Response:
    """The published audit report (disclosure-controlled counts)."""
    return _report(request, access, internal=False)


@router.get(
    "/statistics/internal-report",
    dependencies=[Depends(Requires(Permission.READ_INTERNAL_STATISTICS))],
)
def internal_report(request: Request, access: Access) -> Response:
    """The internal audit report: exact counts, never for publication (trailed)."""
    return _report(request, access, internal=True)
