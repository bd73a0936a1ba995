"""What people do to review items and pairs, in the operational store: statuses, assignments,
notes and judgements. Each table is appended to, never updated: the latest row holds.

Plain SQLAlchemy that means the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casebridge.web.models import Account, Assignment, ItemStatus, Judgement, Note

DEFAULT_STATUS = "new"


def statuses(session: Session) -> dict[str, str]:
    """Every item's status, for the items whose status was ever set (others are new)."""
    ids = select(func.max(ItemStatus.id)).group_by(ItemStatus.item_id).scalar_subquery()
    rows = session.execute(
        select(ItemStatus.item_id, ItemStatus.status).where(ItemStatus.id.in_(ids))
    )
    return {item: status for item, status in rows}


def assignees(session: Session) -> dict[str, int | None]:
    """Every item's assignee, for the items ever assigned (None: unassigned since)."""
    ids = select(func.max(Assignment.id)).group_by(Assignment.item_id).scalar_subquery()
    rows = session.execute(
        select(Assignment.item_id, Assignment.assignee_id).where(Assignment.id.in_(ids))
    )
    return {item: assignee for item, assignee in rows}


def assigned_to(session: Session, account_id: int) -> list[str]:
    """The items assigned to an account now."""
    return sorted(item for item, who in assignees(session).items() if who == account_id)


def status_of(session: Session, item_id: str) -> str:
    """An item's status now."""
    found = session.scalars(
        select(ItemStatus.status)
        .where(ItemStatus.item_id == item_id)
        .order_by(ItemStatus.id.desc())
        .limit(1)
    ).first()
    return found or DEFAULT_STATUS


def status_history(session: Session, item_id: str) -> list[ItemStatus]:
    """Every status change of an item, oldest first."""
    return list(
        session.scalars(
            select(ItemStatus).where(ItemStatus.item_id == item_id).order_by(ItemStatus.id)
        )
    )


def assignment_of(session: Session, item_id: str) -> Assignment | None:
    """An item's latest assignment row, or None if it was never assigned."""
    return session.scalars(
        select(Assignment)
        .where(Assignment.item_id == item_id)
        .order_by(Assignment.id.desc())
        .limit(1)
    ).first()


def notes_on(session: Session, subject_kind: str, subject_id: str) -> list[Note]:
    """The notes on one thing, oldest first."""
    return list(
        session.scalars(
            select(Note)
            .where(Note.subject_kind == subject_kind, Note.subject_id == subject_id)
            .order_by(Note.id)
        )
    )


def judgements_on(session: Session, record_l: str, record_r: str) -> list[Judgement]:
    """Every judgement on a pair (``record_l`` < ``record_r``), oldest first."""
    return list(
        session.scalars(
            select(Judgement)
            .where(Judgement.record_l == record_l, Judgement.record_r == record_r)
            .order_by(Judgement.id)
        )
    )


def active_account(session: Session, account_id: int) -> bool:
    """Whether an account exists and may sign in."""
    account = session.get(Account, account_id)
    return account is not None and account.active


def add(session: Session, rows: Sequence[ItemStatus | Assignment | Note | Judgement]) -> None:
    """Append rows in the caller's transaction (ids are given on flush)."""
    session.add_all(rows)
    session.flush()
