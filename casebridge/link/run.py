"""The link stage: records in, persons out, every decision kept where an analyst can see it.

Tables written: ``match_pair`` (every scored pair at or above the review floor, with its
per-comparison weights), ``person_link`` (record → person, with the strongest match that put it
there), ``person`` (best attributes and the record each came from) and ``person_change``
(splits and merges between runs). What the model compares, ``link_input``, is a temporary
table, rebuilt from the standard tables when needed. The trained model is saved as
``model/linkage_model.json`` in the workspace (``casebridge/link/saved.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix  # type: ignore[import-untyped]
from scipy.sparse.csgraph import connected_components  # type: ignore[import-untyped]

from casebridge.engine import Engine
from casebridge.errors import UsageError
from casebridge.link.constraints import cannot_links_sql, directly_linked_sql
from casebridge.link.ids import assign_ids
from casebridge.link.judgements import import_service_judgements, latest_judgements_sql
from casebridge.link.model import REVIEW_FLOOR
from casebridge.link.prepare import LINK_INPUT, prepare_link_input
from casebridge.link.pruning import RuleYield
from casebridge.link.recheck import contradictions
from casebridge.link.saved import MODEL_FILE as MODEL_FILE
from casebridge.link.saved import (
    duplicate_free_sources,
    model_choices,
    needs_training,
    record_choices,
    use_frozen_model,
)
from casebridge.link.score import drop_scoring, prepare_scoring
from casebridge.link.ties import WEIGHT_COLUMN, TieEvidence, apply_ties, estimate_ties
from casebridge.link.train import Trained, make_linker, predicted, save_model, train
from casebridge.standard.tables import record_run
from casebridge.workspace import Workspace

logger = logging.getLogger(__name__)
PERSON_FIELDS = ("forename", "surname", "date_of_birth", "sex", "ethnicity_self",
                 "ethnicity_officer", "nationality", "postcode")  # fmt: skip


@dataclass(frozen=True)
class LinkReport:
    """What a link run did."""

    records: int
    scored_pairs: int
    persons: int
    multi_record_persons: int
    seconds: dict[str, float]
    ties: TieEvidence | None = None
    rules: tuple[RuleYield, ...] = ()

    @property
    def left_out(self) -> tuple[RuleYield, ...]:
        """The blocking rules whose pairs were not scored: too few matches for their pairs."""
        return tuple(rule for rule in self.rules if not rule.kept)


SCORED = "cb_match_pair"  # the scored pairs before the shared-tie weight: match_pair's columns


def _keep_pairs(engine: Engine, trained: Trained, sql: str) -> list[RuleYield]:
    """Score the blocked pairs into SCORED; return what each blocking rule added. The
    workspace's ``match_pair`` is written once, from SCORED with the shared-tie weight
    (:func:`_write_match_pairs`)."""
    with predicted(engine, trained, REVIEW_FLOOR, sql) as (predictions, yields):
        columns = engine.columns(predictions)
        compared = {c[:-2] for c in columns if c.endswith("_l")} - {"unique_id"}
        detail = [
            c
            for c in columns
            if c.startswith(("gamma_", "mw_")) or (c[-2:] in ("_l", "_r") and c[:-2] in compared)
        ]
        engine.execute(
            f"CREATE OR REPLACE TEMP TABLE {SCORED} AS SELECT unique_id_l AS record_l, "
            "unique_id_r AS record_r, match_weight, match_probability, "
            + ", ".join(f'"{c}"' for c in detail)
            + f" FROM {predictions}"
        )
    return yields


def write_edges(engine: Engine, threshold: float, pairs: str = "match_pair") -> None:
    """Pairs of ``pairs`` (``match_pair``'s shape) at or above the threshold, less cannot-links,
    plus must-links (``cb_edges``); and those of them the model links on its own weight,
    without the shared-tie weight (``cb_direct``: only these let a birth conflict off, see
    link/constraints.py)."""
    judged = latest_judgements_sql()
    engine.execute(
        f"""CREATE OR REPLACE TEMP TABLE cb_edges AS
        SELECT m.record_l AS unique_id_l, m.record_r AS unique_id_r, m.match_probability
        FROM {pairs} m
        LEFT JOIN ({judged}) j ON j.record_l = least(m.record_l, m.record_r)
            AND j.record_r = greatest(m.record_l, m.record_r)
        WHERE m.match_probability >= {threshold} AND coalesce(j.verdict, '') <> 'different'
        UNION ALL
        SELECT record_l, record_r, 1.0 FROM ({judged}) WHERE verdict = 'same'"""
    )
    engine.execute(
        "CREATE OR REPLACE TEMP TABLE cb_direct AS SELECT record_l, record_r FROM "
        + directly_linked_sql(threshold, WEIGHT_COLUMN in engine.columns(pairs), pairs)
    )


def _components_sql(engine: Engine) -> str:
    """Connected components of ``cb_edges``: the name of a (unique_id, cluster_id) table, a
    cluster's id the lowest record id among its records (as Splink's clustering gives it).

    The components are found by scipy's ``connected_components`` over the records' numbers
    (``link_input.record_number``, in the order of their ids, so that a component's lowest
    number is its lowest id); Splink's clustering, a loop of SQL statements, took a second at
    1,000,000 records. Only records with an edge are looked up; every other record is a person
    of its own (its cluster id its own id)."""
    edges = engine.frame(
        f"""SELECT l.record_number AS number_l, r.record_number AS number_r
        FROM cb_edges e
        JOIN {LINK_INPUT} l ON l.unique_id = e.unique_id_l
        JOIN {LINK_INPUT} r ON r.unique_id = e.unique_id_r"""
    )
    engine.create_table_from_arrow("cb_component_numbers", _components(edges), temporary=True)
    engine.execute(
        f"""CREATE OR REPLACE TEMP TABLE cb_components AS
        SELECT r.unique_id, c.unique_id AS cluster_id
        FROM cb_component_numbers m
        JOIN {LINK_INPUT} r ON r.record_number = m.record_number
        JOIN {LINK_INPUT} c ON c.record_number = m.cluster_number
        UNION ALL
        SELECT unique_id, unique_id AS cluster_id FROM {LINK_INPUT}
        WHERE record_number NOT IN (SELECT record_number FROM cb_component_numbers)"""
    )
    engine.execute("DROP TABLE cb_component_numbers")
    return "cb_components"


def _components(edges: pl.DataFrame) -> pl.DataFrame:
    """(record_number, cluster_number) for every record of an edge of ``edges`` (number_l,
    number_r): the lowest number of its connected component."""
    ends = [edges[column].to_numpy().astype(np.int64) for column in ("number_l", "number_r")]
    numbers = np.unique(np.concatenate(ends))
    if len(numbers) == 0:
        return pl.DataFrame(schema={"record_number": pl.Int64, "cluster_number": pl.Int64})
    left, right = (np.searchsorted(numbers, end) for end in ends)
    graph = coo_matrix(
        (np.ones(len(left), dtype=np.int8), (left, right)), shape=(len(numbers), len(numbers))
    )
    count, component = connected_components(graph, directed=False)
    lowest = np.full(count, np.iinfo(np.int64).max)
    np.minimum.at(lowest, component, numbers)
    return pl.DataFrame({"record_number": numbers, "cluster_number": lowest[component]})


def _write_match_pairs(engine: Engine) -> TieEvidence | None:
    """Cluster once, then weigh into every scored pair (SCORED) whether its records share a
    tie, writing the workspace's ``match_pair``; return the tie evidence (None: too little to
    estimate from, and ``match_pair`` is SCORED as it is)."""
    engine.execute(
        "CREATE OR REPLACE TEMP TABLE cb_first AS SELECT unique_id AS record_id, cluster_id "
        f'FROM "{_components_sql(engine)}"'
    )
    evidence = estimate_ties(engine, "cb_first", SCORED)
    if evidence is not None:
        apply_ties(engine, evidence, SCORED)
    else:
        engine.execute(f"CREATE OR REPLACE TABLE match_pair AS SELECT * FROM {SCORED}")
    engine.execute(f"DROP TABLE {SCORED}")
    return evidence


def _judged(engine: Engine, verdict: str) -> pl.DataFrame:
    """(record_l, record_r) of the pairs whose latest judgement is ``verdict``."""
    return engine.frame(
        f"SELECT record_l, record_r FROM ({latest_judgements_sql()}) WHERE verdict = ?", [verdict]
    )


def constrained_clusters(engine: Engine) -> pl.DataFrame:
    """(record_id, cluster_id): the connected components of ``cb_edges`` (from
    :func:`write_edges`), split by :func:`_apply_constraints`."""
    return _apply_constraints(engine, _components_sql(engine))


CONSTRAINT_ROUNDS = 5  # checks of the pieces after a split; one or two settle it in practice


def _apply_constraints(
    engine: Engine, components: str, contradicted: pl.DataFrame | None = None
) -> pl.DataFrame:
    """(record_id, cluster_id) of ``components`` (a (unique_id, cluster_id) table), split so
    that no cluster holds a pair an analyst judged 'different', a pair the constraints keep
    apart (two suspects of one event, conflicting birth dates or ages: link/constraints.py)
    or a pair in ``contradicted``."""
    engine.execute(
        "CREATE OR REPLACE TEMP TABLE cb_members AS SELECT unique_id AS record_id, cluster_id "
        f'FROM "{components}"'
    )
    frame = engine.frame("SELECT record_id, cluster_id FROM cb_members")
    direct = "cb_direct"
    cannot = pl.concat([_judged(engine, "different"), *([contradicted] if contradicted is not None
                        else [])]).unique()  # fmt: skip
    # a birth conflict is let off while a dated record both sides link to is in their piece; a
    # split can move that record out, so the pieces are checked again until nothing changes
    for _ in range(CONSTRAINT_ROUNDS):
        found = engine.frame(cannot_links_sql("cb_members", direct))
        if found.join(cannot, on=["record_l", "record_r"], how="anti").is_empty():
            break
        cannot = pl.concat([cannot, found]).unique()
        frame = break_cannot_links(engine, frame, cannot)
        engine.create_table_from_arrow("cb_members", frame, temporary=True)
    return break_cannot_links(engine, frame, cannot)


def _cluster(engine: Engine, trained: Trained, duplicate_free: bool = False) -> pl.DataFrame:
    components = _components_sql(engine)
    frame = engine.frame(f'SELECT unique_id AS record_id, cluster_id FROM "{components}"')
    # the model's own clear 'different' inside a cluster, unless an analyst said 'same'
    contradicted = (
        contradictions(engine, trained, frame)
        .with_columns(
            record_l=pl.min_horizontal("record_l", "record_r"),
            record_r=pl.max_horizontal("record_l", "record_r"),
        )
        .join(_judged(engine, "same"), on=["record_l", "record_r"], how="anti")
    )
    if duplicate_free:  # and two records of a source free of duplicates, likewise
        declared = _declared_apart(engine, components)
        same = _judged(engine, "same")
        contradicted = pl.concat(
            [contradicted, declared.join(same, on=["record_l", "record_r"], how="anti")]
        )
    return _apply_constraints(engine, components, contradicted)


def _declared_apart(engine: Engine, components: str) -> pl.DataFrame:
    """(record_l, record_r): two records of one source declared free of duplicates (``dedupe =
    false``) that one cluster of ``components`` holds, joined through records of other sources.
    By the declaration they are two people: never scored as a pair, they are kept apart as a
    cannot-link is."""
    return engine.frame(
        f"""SELECT a.unique_id AS record_l, b.unique_id AS record_r
        FROM "{components}" a
        JOIN {LINK_INPUT} x ON x.unique_id = a.unique_id AND NOT x.dedupe
        JOIN "{components}" b ON b.cluster_id = a.cluster_id AND a.unique_id < b.unique_id
        JOIN {LINK_INPUT} y ON y.unique_id = b.unique_id AND y.source = x.source"""
    )


def break_cannot_links(
    engine: Engine, clusters: pl.DataFrame, cannot: pl.DataFrame
) -> pl.DataFrame:
    """Split any cluster that still holds a pair that must stay apart (``cannot``: record_l,
    record_r) through other records: keep its strongest edges that leave every such pair apart,
    then take the pieces as clusters.

    Only clusters that hold such a pair are read into memory, with their edges: a few small
    clusters of several records (as networks' metrics are computed on their small subgraphs),
    since choosing which edges to keep is a walk over each cluster's edges in order of strength
    that set-based SQL does not express."""
    clash = (
        cannot.join(clusters, left_on="record_l", right_on="record_id")
        .join(clusters, left_on="record_r", right_on="record_id", suffix="_r")
        .filter(pl.col("cluster_id") == pl.col("cluster_id_r"))
    )
    if clash.is_empty():
        return clusters
    broken = clusters.filter(pl.col("cluster_id").is_in(clash["cluster_id"].implode()))
    edges = (
        engine.frame("SELECT unique_id_l, unique_id_r, match_probability FROM cb_edges")
        .join(broken, left_on="unique_id_l", right_on="record_id")
        .join(broken, left_on="unique_id_r", right_on="record_id", suffix="_r")
        .filter(pl.col("cluster_id") == pl.col("cluster_id_r"))
    )
    edges_of = {
        key[0]: [(p, a, b) for a, b, p in part.select(
            "unique_id_l", "unique_id_r", "match_probability").iter_rows()]
        for key, part in edges.partition_by("cluster_id", as_dict=True).items()
    }  # fmt: skip
    apart_of = {
        key[0]: part.select("record_l", "record_r").rows()
        for key, part in clash.partition_by("cluster_id", as_dict=True).items()
    }
    pieces: list[tuple[str, str]] = []
    for cluster, members in (
        broken.group_by("cluster_id", maintain_order=True).agg("record_id").iter_rows()
    ):
        mine = sorted(edges_of.get(cluster, []), reverse=True)
        for piece, records in enumerate(_split(set(members), mine, apart_of[cluster])):
            pieces += [(record, f"{cluster}~{piece}") for record in records]
    split = pl.DataFrame(pieces, schema=["record_id", "new_cluster"], orient="row")
    return clusters.join(split, on="record_id", how="left").select(
        "record_id", cluster_id=pl.coalesce("new_cluster", "cluster_id")
    )


def _split(
    members: set[str], edges: list[tuple[float, str, str]], apart: list[tuple[str, str]]
) -> list[set[str]]:
    """Keep the strongest edges that leave every cannot-link pair apart (edges strongest first),
    and give the pieces they join, in order of their first record.

    Greedy, as Kruskal's algorithm is: an edge is kept unless it would join two pieces that
    hold a pair of ``apart`` between them. Pieces grow by union, so each edge costs a look at
    the cannot-links of the smaller piece's records only."""
    piece_of = {m: m for m in sorted(members)}
    held: dict[str, set[str]] = {m: {m} for m in piece_of}
    enemies: dict[str, set[str]] = {}
    for a, b in apart:
        enemies.setdefault(a, set()).add(b)
        enemies.setdefault(b, set()).add(a)
    for _, a, b in edges:
        first, second = piece_of[a], piece_of[b]
        if first == second:
            continue
        if len(held[first]) < len(held[second]):
            first, second = second, first
        if any(piece_of[e] == first for r in held[second] for e in enemies.get(r, ())):
            continue
        for record in held[second]:
            piece_of[record] = first
        held[first] |= held.pop(second)
    return sorted(held.values(), key=lambda piece: min(piece))


def _write_persons(engine: Engine, links: pl.DataFrame) -> None:
    engine.create_table_from_arrow("cb_person_ids", links, temporary=True)
    # a record's probability: its strongest edge to another record of the same person
    engine.execute(
        """CREATE OR REPLACE TABLE person_link AS
        SELECT i.record_id, i.person_id, coalesce(s.probability, 1.0) AS probability
        FROM cb_person_ids i
        LEFT JOIN (
            SELECT e.a AS record_id, max(e.p) AS probability
            FROM (SELECT unique_id_l AS a, unique_id_r AS b, match_probability AS p FROM cb_edges
                  UNION ALL
                  SELECT unique_id_r, unique_id_l, match_probability FROM cb_edges) e
            JOIN cb_person_ids x ON x.record_id = e.a
            JOIN cb_person_ids y ON y.record_id = e.b
            WHERE x.person_id = y.person_id
            GROUP BY e.a) s ON s.record_id = i.record_id"""
    )
    values = ", ".join(f"r.{field}" for field in PERSON_FIELDS)
    engine.execute(
        f"""CREATE OR REPLACE TEMP TABLE cb_person_values AS
        SELECT l.person_id, n.records, r.record_id, r.source, {values}
        FROM person_link l
        JOIN (SELECT person_id, count(*) AS records FROM person_link GROUP BY person_id) n
          ON n.person_id = l.person_id
        JOIN person_record r ON r.record_id = l.record_id"""
    )
    # a person of one record takes its values as they are; only the others need choosing
    single = ", ".join(f"{field}, CASE WHEN {field} IS NOT NULL THEN record_id END AS "
                       f"{field}_from" for field in PERSON_FIELDS)  # fmt: skip
    best = []
    for field in PERSON_FIELDS:
        best.append(
            f"""(SELECT person_id, {field}, record_id AS {field}_from FROM (
                SELECT person_id, {field}, min(record_id) AS record_id,
                    row_number() OVER (
                        PARTITION BY person_id ORDER BY count(*) DESC, {field}) AS rank
                FROM cb_person_values WHERE records > 1 AND {field} IS NOT NULL
                GROUP BY person_id, {field}) WHERE rank = 1) b_{field}"""
        )
    joins = " ".join(f"LEFT JOIN {b} USING (person_id)" for b in best)
    chosen = ", ".join(f"{field}, {field}_from" for field in PERSON_FIELDS)
    engine.execute(
        f"""CREATE OR REPLACE TABLE person AS
        SELECT person_id, records, 1 AS sources, {single}
        FROM cb_person_values WHERE records = 1
        UNION ALL
        SELECT p.person_id, p.records, p.sources, {chosen}
        FROM (SELECT person_id, count(*) AS records, count(DISTINCT source) AS sources
              FROM cb_person_values WHERE records > 1 GROUP BY person_id) p
        {joins}"""
    )


def link(workspace: Workspace, retrain: bool = False) -> LinkReport:
    """Score, cluster and write persons for the workspace's ingested records.

    The model saved in the workspace is reused, so that adding an extract does not move every
    weight (and with them borderline persons); it is trained when there is none, when the
    ``[link]`` settings that shape it changed, or on request. A frozen model (``model`` in
    ``[link]``) is used as it is and never trained.
    """
    settings = workspace.settings.link
    if retrain and settings.model is not None:
        raise UsageError(
            "link.model in casebridge.toml names a frozen model, which is never retrained: "
            "remove the setting to train on this workspace"
        )
    choices = model_choices(workspace)
    engine = workspace.connect()
    seconds: dict[str, float] = {}
    started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        started = time.perf_counter()
        import_service_judgements(engine, workspace.root)  # the review service's judgements
        records = prepare_link_input(engine, duplicate_free_sources(workspace))
        if records < 2:
            raise UsageError("nothing to link: ingest some sources first ('casebridge ingest')")
        model = workspace.root / MODEL_FILE
        if settings.model is not None:
            use_frozen_model(workspace, engine)
            trained = make_linker(engine, model, choices=choices)
        elif retrain or needs_training(workspace):
            trained = train(engine, settings.seed, choices)
            save_model(trained, model)
            record_choices(workspace)
        else:
            trained = make_linker(engine, model, choices=choices)
        seconds["train"] = time.perf_counter() - started
        scoring = prepare_scoring(engine, trained.linker)
        rules = _keep_pairs(engine, trained, scoring.sql)
        seconds["predict"] = time.perf_counter() - started - seconds["train"]
        write_edges(engine, settings.threshold, SCORED)
        ties = _write_match_pairs(engine)
        if ties is not None:
            write_edges(engine, settings.threshold)
        with engine.transaction():
            clusters = _cluster(engine, trained, choices.has_duplicate_free_source)
            links = assign_ids(engine, clusters)
            _write_persons(engine, links)
        seconds["cluster"] = time.perf_counter() - started - seconds["train"] - seconds["predict"]
        # Splink's working tables hold names and birth dates: none stays in the workspace
        drop_scoring(engine, scoring)
        trained.linker.table_management.delete_tables_created_by_splink_from_db()  # type: ignore[no-untyped-call]
        persons = int(engine.scalar("SELECT count(*) FROM person"))
        multi = int(engine.scalar("SELECT count(*) FROM person WHERE records > 1"))
        pairs = int(engine.scalar("SELECT count(*) FROM match_pair"))
        report = LinkReport(records, pairs, persons, multi, seconds, ties, tuple(rules))
        parameters = {**settings.model_dump(mode="json"), "retrain": retrain}
        _record_run(engine, started_at, parameters, report)
    finally:
        engine.close()
    return report


def _record_run(
    engine: Engine, started: dt.datetime, parameters: dict[str, object], report: LinkReport
) -> None:
    """The link stage's row in ``run``: records in, persons out."""
    record_run(
        engine, "link", started, json.dumps(parameters),
        json.dumps({"scored_pairs": report.scored_pairs, "rules_left_out": [
            {"rule": r.name, "pairs": r.pairs, "expected_matches": r.expected_matches}
            for r in report.left_out]}), report.records, report.persons,
    )  # fmt: skip
