"""Every statement the ingest stage runs transpiles to Spark SQL (the scale-out engine)."""

from __future__ import annotations

from pathlib import Path

import sqlglot
from sqlglot.errors import ErrorLevel

from casebridge.ingest.run import ingest_source
from casebridge.synth.generate import generate
from casebridge.synth.profile import load_profile
from casebridge.workspace import open_workspace


def test_every_ingest_statement_transpiles_to_spark(tmp_path: Path) -> None:
    generate(600, 4, load_profile("default"), tmp_path / "ws")
    workspace = open_workspace(tmp_path / "ws")
    engine = workspace.connect()
    try:
        for source in workspace.settings.sources:
            ingest_source(engine, workspace, source)
    finally:
        engine.close()
    failures = []
    for statement in dict.fromkeys(engine.statements):
        try:
            sqlglot.transpile(
                statement, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE
            )
        except sqlglot.errors.SqlglotError as exc:
            failures.append(f"{exc}: {' '.join(statement.split())[:300]}")
    assert len(engine.statements) > 50
    assert failures == []
