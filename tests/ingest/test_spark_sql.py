"""Every statement the ingest stage runs transpiles to Spark SQL (the scale-out engine)."""

from __future__ import annotations

from pathlib import Path

from casebridge.ingest.run import ingest_source
from casebridge.synth.generate import generate
from casebridge.synth.profile import load_profile
from casebridge.workspace import open_workspace
from tests.spark import untranspilable


def test_every_ingest_statement_transpiles_to_spark(tmp_path: Path) -> None:
    generate(600, 4, load_profile("default"), tmp_path / "ws")
    workspace = open_workspace(tmp_path / "ws")
    engine = workspace.connect()
    try:
        for source in workspace.settings.sources:
            ingest_source(engine, workspace, source)
    finally:
        engine.close()
    failures = untranspilable(engine.statements)
    assert len(engine.statements) > 50
    assert failures == []
