"""Every statement the audit runs transpiles to Spark SQL (the scale-out engine)."""

from __future__ import annotations

from casebridge.audit.run import build_tables
from casebridge.audit.settings import AuditSettings
from tests.spark import untranspilable

from .helpers import tiny_workspace


def test_every_audit_statement_transpiles_to_spark() -> None:
    engine = tiny_workspace()
    engine.execute(
        "CREATE TABLE match_pair AS SELECT 'a:1' AS record_l, 'b:1' AS record_r, "
        "0.5 AS match_probability"
    )
    engine.statements.clear()
    build_tables(engine, AuditSettings())
    failures = untranspilable(engine.statements)
    assert len(engine.statements) > 15
    assert failures == []
