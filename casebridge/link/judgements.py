"""Analysts' judgements on pairs of records: stored with who and when, never deleted.

A reversal is a new judgement; the latest one for a pair is the one honoured. 'same' makes a
must-link, 'different' a cannot-link; 'unsure' changes nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import polars as pl

from casebridge.engine import Engine
from casebridge.errors import UsageError, WorkspaceError

Verdict = Literal["same", "different", "unsure"]


def record_judgement(
    engine: Engine, first: str, second: str, verdict: Verdict, reason: str, who: str
) -> None:
    """Store one judgement on a pair of records (in either order)."""
    if first == second:
        raise UsageError("a judgement needs two different records")
    known = engine.scalar(
        "SELECT count(*) FROM person_record WHERE record_id IN (?, ?)", [first, second]
    )
    if known != 2:
        raise UsageError(
            f"no such record among {first}, {second}; records are written source:local_id, "
            "e.g. force_a:NP-N0001234"
        )
    if not reason.strip() or not who.strip():
        raise UsageError("a judgement needs a reason and who made it")
    left, right = sorted((first, second))
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    engine.execute(
        "INSERT INTO match_judgement VALUES (?, ?, ?, ?, ?, ?)",
        [left, right, verdict, reason.strip(), who.strip(), now],
    )


def latest_judgements_sql() -> str:
    """The latest judgement of every judged pair."""
    return (
        "SELECT record_l, record_r, verdict FROM ("
        "SELECT *, row_number() OVER (PARTITION BY record_l, record_r "
        "ORDER BY judged_at DESC) AS latest FROM match_judgement) WHERE latest = 1"
    )


# ---- judgements made in the review service (casebridge serve) ------------------------------
SERVICE_JUDGE = "service account {}"
SERVICE_JUDGEMENTS = "cb_service_judgement"


def import_service_judgements(engine: Engine, workspace: Path) -> int:
    """Copy into ``match_judgement`` the review service's judgements it does not hold yet (each
    once, however often this runs); return how many were new.

    The service's database is the one ``casebridge serve`` uses for the workspace:
    ``CASEBRIDGE_DATABASE_URL``, else ``service.sqlite`` in the workspace; without one there
    is nothing to import. A judgement keeps its time, so the latest judgement of a pair is the
    latest whether it was made here (``casebridge link judge``) or in the service, and its
    account as ``service account <id>`` (docs/service.md, "Judgements flow into link")."""
    rows = _service_judgements(workspace)
    if rows is None:
        return 0
    frame = pl.DataFrame(
        rows,
        schema={"record_l": pl.String, "record_r": pl.String, "verdict": pl.String,
                "reason": pl.String, "judged_by": pl.String, "judged_at": pl.Datetime("us")},
        orient="row",
    )  # fmt: skip
    engine.create_table_from_arrow(SERVICE_JUDGEMENTS, frame, temporary=True)
    before = int(engine.scalar("SELECT count(*) FROM match_judgement"))
    engine.execute(
        f"""INSERT INTO match_judgement
        SELECT s.record_l, s.record_r, s.verdict, s.reason, s.judged_by, s.judged_at
        FROM {SERVICE_JUDGEMENTS} s
        WHERE NOT EXISTS (SELECT 1 FROM match_judgement m
            WHERE m.record_l = s.record_l AND m.record_r = s.record_r
              AND m.judged_by = s.judged_by AND m.judged_at = s.judged_at)"""
    )
    return int(engine.scalar("SELECT count(*) FROM match_judgement")) - before


def _service_judgements(workspace: Path) -> list[tuple[object, ...]] | None:
    """Every judgement in the service's database, oldest first; None when it has none."""
    # the service's stack is loaded only here: a workspace never served never needs it
    from sqlalchemy import inspect, select
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from casebridge.web.config import default_database_url
    from casebridge.web.db import make_engine
    from casebridge.web.models import Judgement

    url = default_database_url(workspace)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        return None
    service = make_engine(url)
    try:
        if not inspect(service).has_table("judgement"):
            return None
        with service.connect() as connection:
            found = connection.execute(
                select(Judgement.record_l, Judgement.record_r, Judgement.verdict,
                       Judgement.reason, Judgement.account_id, Judgement.at)
                .order_by(Judgement.id)
            ).all()  # fmt: skip
    except SQLAlchemyError:
        raise WorkspaceError(
            "the review service's database could not be read for its judgements; check "
            "CASEBRIDGE_DATABASE_URL (docs/service.md)"
        ) from None
    finally:
        service.dispose()
    return [
        (left, right, verdict, reason, SERVICE_JUDGE.format(account), _utc(at))
        for left, right, verdict, reason, account, at in found
    ]


def _utc(moment: dt.datetime) -> dt.datetime:
    """A time in UTC without its zone, as match_judgement holds times."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment
