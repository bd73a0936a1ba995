"""Every statement the networks stage runs transpiles to Spark SQL (the scale-out engine)."""

from __future__ import annotations

from casebridge.networks.run import build_networks
from casebridge.workspace import NetworkSettings
from tests.networks.builders import add_event, new_engine
from tests.spark import untranspilable


def test_every_networks_statement_transpiles_to_spark() -> None:
    engine = new_engine()
    add_event(engine, "E1", {"S1": ("suspect", 30), "V1": ("victim", 14)})
    add_event(engine, "E2", {"S2": ("suspect", 30), "V1": ("victim", None)}, band="13plus")
    engine.execute("INSERT INTO match_pair VALUES ('force_a:S1', 'force_a:S2', 0.05)")
    engine.statements.clear()
    build_networks(engine, NetworkSettings(window_days=90))
    failures = untranspilable(engine.statements)
    assert len(engine.statements) > 15
    assert failures == []
