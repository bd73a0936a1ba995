"""The networks stage: resolved persons and events in, group-based networks out.

Tables written (each replaced whole on every run, in one transaction):

- ``network``: one row per network with its counts, span, agencies and most central suspects;
- ``network_member``: every suspect and victim of a network, with its events and centrality;
- ``network_edge``: every tie inside a network with the events and sources behind it.

What a network is, and every setting: ``docs/networks.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass

import polars as pl

from casebridge.engine import Engine
from casebridge.errors import UsageError
from casebridge.networks.graph import (
    candidate_edges_sql,
    cluster_suspects,
    maybe_same_suspects_sql,
    select_candidates,
    select_events,
    select_evidence,
    select_ties,
)
from casebridge.networks.metrics import NetworkMeasures, measure_networks
from casebridge.standard.tables import record_run
from casebridge.workspace import NetworkSettings, VocabularySettings

logger = logging.getLogger(__name__)
WORKING_TABLES = ("cb_network_event", "cb_network_tie", "cb_network_against",
                  "cb_network_shared", "cb_network_evidence", "cb_network_suspect",
                  "cb_network_link", "cb_network_component", "cb_network_named",
                  "cb_network_candidate", "cb_network_candidate_edge", "cb_network_event_of",
                  "cb_network_kept", "cb_network_centrality")  # fmt: skip


@dataclass(frozen=True)
class NetworkSummary:
    """What a networks run found."""

    networks: int
    members: int
    edges: int
    seconds: float
    set_aside: int  # groups whose suspects may be fewer people than min_suspects


def build_networks(
    engine: Engine, settings: NetworkSettings, vocabulary: VocabularySettings | None = None
) -> NetworkSummary:
    """Find group-based networks among the linked persons and write ``network``,
    ``network_member`` and ``network_edge``; rerunning on the same data gives the same tables.
    ``vocabulary`` names the kinds of duty reports and CSE assessments (the workspace's
    ``[vocabulary]``; the defaults when not given).

    Example::

        engine = workspace.connect()
        summary = build_networks(
            engine, workspace.settings.networks, workspace.settings.vocabulary
        )
        print(summary.networks, summary.set_aside)
    """
    if not (engine.table_exists("person_link") and engine.table_exists("person")):
        raise UsageError("no persons yet: run 'casebridge link' first")
    started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    started = time.perf_counter()
    vocabulary = vocabulary or VocabularySettings()
    select_events(engine, settings, vocabulary)
    select_ties(engine, settings)
    select_evidence(engine, settings)
    cluster_suspects(engine)
    select_candidates(engine, settings)
    measures = _measure(engine, settings)
    kept = [m for m in measures if m.distinct_suspects >= settings.min_suspects]
    _register(engine, kept)
    with engine.transaction():
        _write_tables(engine)
        summary = NetworkSummary(
            networks=len(kept),
            members=int(engine.scalar("SELECT count(*) FROM network_member")),
            edges=int(engine.scalar("SELECT count(*) FROM network_edge")),
            seconds=time.perf_counter() - started,
            set_aside=len(measures) - len(kept),
        )
        _record_run(engine, settings, vocabulary, started_at, summary)
    _drop_working_tables(engine)
    logger.info(
        "networks: %d found, %d set aside (suspects may be one person), %d members, "
        "%d ties, %.2f s",
        summary.networks, summary.set_aside, summary.members, summary.edges, summary.seconds,
    )  # fmt: skip
    return summary


def _measure(engine: Engine, settings: NetworkSettings) -> list[NetworkMeasures]:
    engine.execute(
        f"CREATE OR REPLACE TEMP TABLE cb_network_candidate_edge AS {candidate_edges_sql()}"
    )
    members = engine.frame("SELECT network_id, person_id, role FROM cb_network_candidate")
    edges = engine.frame(
        "SELECT network_id, person_a, person_b, kind FROM cb_network_candidate_edge"
    )
    maybe_same = engine.frame(
        maybe_same_suspects_sql(settings.same_person_floor, engine.table_exists("match_pair"))
    )
    return measure_networks(members, edges, maybe_same)


def _register(engine: Engine, kept: list[NetworkMeasures]) -> None:
    networks = pl.DataFrame(
        {
            "network_id": [m.network_id for m in kept],
            "distinct_suspects": [m.distinct_suspects for m in kept],
            "central_suspects": [m.central_suspects for m in kept],
        },
        schema={"network_id": pl.String, "distinct_suspects": pl.Int32,
                "central_suspects": pl.List(pl.String)},
    )  # fmt: skip
    centrality = pl.DataFrame(
        [(m.network_id, person, value) for m in kept for person, value in m.centrality.items()],
        schema={"network_id": pl.String, "person_id": pl.String, "centrality": pl.Float64},
        orient="row",
    )
    engine.create_table_from_arrow("cb_network_kept", networks, temporary=True)
    engine.create_table_from_arrow("cb_network_centrality", centrality, temporary=True)


def _write_tables(engine: Engine) -> None:
    engine.execute(
        """CREATE OR REPLACE TABLE network_edge AS
        SELECT e.network_id, e.person_a, e.person_b, e.kind, e.events, e.sources
        FROM cb_network_candidate_edge e JOIN cb_network_kept k ON k.network_id = e.network_id"""
    )
    engine.execute(
        """CREATE OR REPLACE TEMP TABLE cb_network_event_of AS
        SELECT DISTINCT m.network_id, v.event_id, v.source, v.event_date, v.outcome_category,
            v.cse_flag
        FROM cb_network_evidence e
        JOIN cb_network_candidate m ON m.person_id = e.person_a AND m.role = 'suspect'
        JOIN cb_network_kept k ON k.network_id = m.network_id
        JOIN cb_network_event v ON v.event_id = e.event_id"""
    )
    engine.execute(
        """CREATE OR REPLACE TABLE network_member AS
        SELECT m.network_id, m.person_id, m.role,
            CAST(count(DISTINCT x.event_id) AS INTEGER) AS events, c.centrality
        FROM cb_network_candidate m
        JOIN cb_network_kept k ON k.network_id = m.network_id
        JOIN cb_network_centrality c ON c.network_id = m.network_id AND c.person_id = m.person_id
        LEFT JOIN cb_network_tie t ON t.person_id = m.person_id
        LEFT JOIN cb_network_event_of x ON x.network_id = m.network_id
            AND x.event_id = t.event_id
        GROUP BY m.network_id, m.person_id, m.role, c.centrality"""
    )
    engine.execute(_NETWORK_SQL)


_NETWORK_SQL = """CREATE OR REPLACE TABLE network AS
    WITH member AS (
        SELECT network_id, count(*) FILTER (WHERE role = 'suspect') AS suspects,
            count(*) FILTER (WHERE role = 'victim') AS victims
        FROM network_member GROUP BY network_id),
    agency AS (SELECT source, max(kind) AS kind FROM source GROUP BY source),
    happened AS (
        SELECT x.network_id, count(DISTINCT x.event_id) AS events,
            count(DISTINCT x.source) AS sources,
            count(DISTINCT x.source) FILTER (WHERE a.kind = 'police') AS forces,
            min(x.event_date) AS first_date, max(x.event_date) AS last_date,
            list_sort(list(DISTINCT x.source)) AS source_keys,
            count(DISTINCT x.event_id) FILTER (WHERE x.outcome_category = 'charge')
                AS charged_events,
            count(DISTINCT x.event_id) FILTER (WHERE x.cse_flag) AS cse_flagged_events
        FROM cb_network_event_of x LEFT JOIN agency a ON a.source = x.source
        GROUP BY x.network_id),
    tie AS (SELECT network_id, count(*) AS edges FROM network_edge GROUP BY network_id)
    SELECT k.network_id, CAST(m.suspects AS INTEGER) AS suspects,
        CAST(m.victims AS INTEGER) AS victims, CAST(h.events AS INTEGER) AS events,
        CAST(h.sources AS INTEGER) AS sources, CAST(h.forces AS INTEGER) AS forces,
        h.first_date, h.last_date, k.central_suspects, k.distinct_suspects, h.source_keys,
        CAST(h.charged_events AS INTEGER) AS charged_events,
        CAST(h.cse_flagged_events AS INTEGER) AS cse_flagged_events,
        CAST(t.edges AS INTEGER) AS edges
    FROM cb_network_kept k
    JOIN member m ON m.network_id = k.network_id
    JOIN happened h ON h.network_id = k.network_id
    JOIN tie t ON t.network_id = k.network_id"""


def _record_run(
    engine: Engine,
    settings: NetworkSettings,
    vocabulary: VocabularySettings,
    started: dt.datetime,
    summary: NetworkSummary,
) -> None:
    record_run(
        engine, "networks", started,
        json.dumps({**settings.model_dump(mode="json"), "vocabulary": vocabulary.model_dump()}),
        json.dumps({"events": int(engine.scalar("SELECT count(*) FROM cb_network_event"))}),
        int(engine.scalar("SELECT count(*) FROM cb_network_tie")), summary.networks,
    )  # fmt: skip


def _drop_working_tables(engine: Engine) -> None:
    for name in WORKING_TABLES:
        engine.execute(f"DROP TABLE IF EXISTS {name}")
