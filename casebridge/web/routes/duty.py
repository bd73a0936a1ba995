"""The duty-report API: file a report under the mandatory duty to report child sexual abuse,
read it back, list the reports you may see (docs/service.md, "Duty reports").

Every route declares its permission and goes through one
:class:`~casebridge.web.duty_access.DutyReports` (scope, masking, the trail). The body of a
report travels in a POST, never in the URL; its reference is the only id in an address.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Request, status

from casebridge.web.deps import Principal, current_principal
from casebridge.web.duty_access import DutyReports
from casebridge.web.permissions import Permission, Requires
from casebridge.web.refusals import UNPROCESSABLE
from casebridge.web.routes.casework import PROBLEMS
from casebridge.web.services.duty_routing import routing_table
from casebridge.web.services.duty_schemas import (
    DutyReceipt,
    DutyReportDetail,
    DutyReportIn,
    DutyReportSummary,
)

Reference = Annotated[str, Path(max_length=40, description="the receipt's reference")]


def duty_reports(
    request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> DutyReports:
    """The request's access to duty reports, routed by the deployment's table."""
    settings = request.app.state.settings
    table = routing_table(settings.workspace, settings.duty_routing_file)
    return DutyReports(principal, request.app.state.sessions, table)


Reports = Annotated[DutyReports, Depends(duty_reports)]
router = APIRouter(prefix="/api", tags=["duty reports"], responses=PROBLEMS)


@router.post(
    "/duty-reports",
    dependencies=[Depends(Requires(Permission.FILE_DUTY_REPORT))],
    status_code=status.HTTP_201_CREATED,
    responses=UNPROCESSABLE,
)
def file_report(report: DutyReportIn, reports: Reports) -> DutyReceipt:
    """File a report of child sexual abuse under the mandatory duty: the receipt gives its
    reference and the police force it was routed to by the child's postcode (null: kept,
    unrouted, for a supervisor)."""
    return reports.file(report)


@router.get("/duty-reports", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def list_reports(reports: Reports) -> list[DutyReportSummary]:
    """The reports you filed, those routed to a force in your scope, and (supervisors) those
    not routed: references and routes only, newest first."""
    return reports.listed()


@router.get("/duty-reports/{reference}", dependencies=[Depends(Requires(Permission.READ_CASEWORK))])
def read_report(reference: Reference, reports: Reports) -> DutyReportDetail:
    """A report as filed, for its filer and the force it was routed to."""
    return reports.read(reference)


def install_duty_reports(app: FastAPI) -> None:
    """Serve the duty-report API on ``app``; refuse to start when the deployment's routing
    table (``CASEBRIDGE_DUTY_ROUTING``) cannot be read."""
    settings = app.state.settings
    routing_table(settings.workspace, settings.duty_routing_file)
    app.include_router(router)
