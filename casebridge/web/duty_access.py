"""The data-access layer for duty reports: every page and API route files and reads them
through a :class:`DutyReports`, as casework goes through :class:`~casebridge.web.access.Access`.

For the signed-in principal it enforces, on every call:

- **role**: filing needs ``Permission.FILE_DUTY_REPORT``, reading ``Permission.READ_CASEWORK``;
- **scope**: a report exists for its filer, for accounts whose agency scope holds the force it
  was routed to, and (while unrouted) for supervisors (``Permission.ASSIGN_OTHERS``), who see
  to it; for anyone else it does not exist (:class:`~casebridge.web.access.NotFoundError`);
- **masking**: the child's identifying details are null for a role that may not read
  victims' details, unless that account filed the report;
- **the trail**: every filing and every read is an entry naming the report's reference only,
  in the same transaction as the write, before anything is returned.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from casebridge.web import trail
from casebridge.web.access import ForbiddenError, NotFoundError
from casebridge.web.db import transaction
from casebridge.web.deps import Principal
from casebridge.web.models import DutyReport, utc_now
from casebridge.web.permissions import Permission, allowed
from casebridge.web.services.duty_routing import RoutingTable, parse_postcode
from casebridge.web.services.duty_schemas import (
    ALLOWED_DELAY_DAYS,
    DutyReceipt,
    DutyReportDetail,
    DutyReportIn,
    DutyReportSummary,
)

SUBJECT = "duty_report"
# Crockford's base 32 (no I, L, O, U): read aloud and typed back without mistakes
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 8  # 40 bits from the operating system's random source
LIST_LIMIT = 200
CHILD_IDENTIFIERS = ("forenames", "surname", "date_of_birth", "postcode")


def new_reference(year: int) -> str:
    """A reference nobody can guess: ``DR-2026-`` and 8 random characters."""
    drawn = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"DR-{year}-{drawn}"


@dataclass
class DutyReports:
    """One request's access to duty reports, as one principal."""

    principal: Principal
    sessions: sessionmaker[Session]
    routing: RoutingTable

    def _can(self, permission: Permission) -> bool:
        return allowed(self.principal.role, permission)

    def _require(self, permission: Permission) -> None:
        if not self._can(permission):
            raise ForbiddenError("your role may not do this")

    def _visible(self) -> ColumnElement[bool]:
        """The reports the principal may see, as an SQL condition."""
        me = self.principal.account_id
        reading = self._can(Permission.READ_CASEWORK)
        return or_(
            DutyReport.filed_by == me,
            DutyReport.force.in_(sorted(self.principal.scopes)) if reading else false(),
            DutyReport.force.is_(None) if self._can(Permission.ASSIGN_OTHERS) else false(),
        )

    def file(self, given: DutyReportIn) -> DutyReceipt:
        """Keep the report, routed to the force of the child's postcode district (None:
        unrouted), and give its receipt."""
        self._require(Permission.FILE_DUTY_REPORT)
        postcode = parse_postcode(given.child.postcode or "")
        force = self.routing.force_for(postcode)
        details = given.model_dump_json()
        for _attempt in range(5):
            now = utc_now()
            row = DutyReport(
                reference=new_reference(now.year), filed_by=self.principal.account_id,
                filed_at=now, force=force, details=details,
                postcode_district=None if postcode is None else postcode.district,
            )  # fmt: skip
            try:
                with transaction(self.sessions) as session:
                    session.add(row)
                    session.flush()
                    trail.record(session, self.principal, "duty.file_report", SUBJECT,
                                 [row.reference])  # fmt: skip
            except IntegrityError:  # the same reference drawn twice: draw again
                continue
            return receipt(row, given)
        raise RuntimeError("no free duty-report reference after five draws")

    def read(self, reference: str) -> DutyReportDetail:
        """A report as filed, if the principal may see it."""
        self._require(Permission.READ_CASEWORK)
        with transaction(self.sessions) as session:
            row = session.scalars(
                select(DutyReport).where(DutyReport.reference == reference, self._visible())
            ).one_or_none()
            if row is None:
                raise NotFoundError("not found")
            trail.record(session, self.principal, "duty.read_report", SUBJECT, [reference])
        report = DutyReportIn.model_validate_json(row.details)
        masked = self._hide_child(row)
        if masked:
            hidden = report.child.model_copy(update=dict.fromkeys(masked))
            report = report.model_copy(update={"child": hidden})
        return DutyReportDetail(
            **receipt(row, report).model_dump(), filed_by=row.filed_by, report=report,
            masked=[f"child.{name}" for name in masked],
        )  # fmt: skip

    def _hide_child(self, row: DutyReport) -> list[str]:
        if row.filed_by == self.principal.account_id:
            return []
        return [] if self._can(Permission.READ_VICTIM_DETAILS) else list(CHILD_IDENTIFIERS)

    def listed(self) -> list[DutyReportSummary]:
        """The reports the principal may see, newest first (references and routes only)."""
        self._require(Permission.READ_CASEWORK)
        me = self.principal.account_id
        with transaction(self.sessions) as session:
            rows = session.execute(
                select(DutyReport.reference, DutyReport.filed_at, DutyReport.force,
                       DutyReport.filed_by)
                .where(self._visible())
                .order_by(DutyReport.filed_at.desc(), DutyReport.id.desc())
                .limit(LIST_LIMIT)
            ).all()  # fmt: skip
            trail.record(session, self.principal, "duty.read_reports", SUBJECT,
                         [r.reference for r in rows])  # fmt: skip
        return [
            DutyReportSummary(reference=r.reference, filed_at=r.filed_at, force=r.force,
                              routed=r.force is not None, filed_by_me=r.filed_by == me)
            for r in rows
        ]  # fmt: skip


def receipt(row: DutyReport, given: DutyReportIn) -> DutyReceipt:
    """The receipt of a stored report."""
    filed_at = row.filed_at if row.filed_at.tzinfo else row.filed_at.replace(tzinfo=dt.UTC)
    return DutyReceipt(
        reference=row.reference, filed_at=filed_at, force=row.force,
        routed=row.force is not None, postcode_district=row.postcode_district,
        delay_days=given.delay_days, beyond_allowed_delay=given.delay_days > ALLOWED_DELAY_DAYS,
    )  # fmt: skip


def stored_reports(session: Session) -> list[tuple[str, str | None, dict[str, object]]]:
    """Every stored report as (reference, force, the report as filed), oldest first: what the
    next pipeline run takes as its duty-report sources."""
    rows = session.execute(
        select(DutyReport.reference, DutyReport.force, DutyReport.details).order_by(DutyReport.id)
    ).all()
    return [(r.reference, r.force, json.loads(r.details)) for r in rows]
