"""Networks as files a review team can open elsewhere: GraphML, GEXF (Gephi) and CSV nodes and
edges in the shape link-analysis tools (i2-style) import.

These are person-level exports: a node is a pseudonymous person id with its role, network,
event count and centrality, never a name or a date of birth. Each export is logged (counts
only), recorded in ``run``, readable by its owner only, and says in its first line that it holds
personal data: a ``# `` comment line in CSV, an XML comment after the declaration in GraphML
and GEXF (which Gephi, networkx and other XML readers skip).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from xml.etree import ElementTree

import networkx as nx
import polars as pl
from networkx.readwrite.gexf import GEXFWriter

from casebridge.engine import Engine
from casebridge.errors import OutputError, UsageError
from casebridge.standard.tables import record_run
from casebridge.workspace import OWNER_ONLY_FILE, OWNER_ONLY_FOLDER

logger = logging.getLogger(__name__)
MARKING = (
    "PERSONAL DATA: person-level export from casebridge (pseudonymous person ids and roles; "
    "no names or dates of birth). Handle under your organisation's data-protection rules."
)
FILES = {
    "graphml": ("networks.graphml",),
    "gexf": ("networks.gexf",),
    "csv": ("network_nodes.csv", "network_edges.csv"),
}
FORMATS = tuple(FILES)


def _nodes(engine: Engine) -> pl.DataFrame:
    """One row per person: a victim may sit in more than one network when a window is set."""
    members = engine.frame(
        "SELECT person_id, role, network_id, events, centrality FROM network_member"
    )
    return (
        members.sort("network_id")
        .group_by("person_id")
        .agg(
            pl.col("role").first(),
            pl.col("network_id").str.join("; "),
            pl.col("events").sum(),
            pl.col("centrality").max(),
        )
        .sort("person_id")
    )


def _edges(engine: Engine) -> pl.DataFrame:
    edges = engine.frame(
        "SELECT network_id, person_a, person_b, kind, events, sources FROM network_edge"
    )
    return edges.with_columns(
        weight=pl.col("events").list.len(),
        events=pl.col("events").list.join("; "),
        sources=pl.col("sources").list.join("; "),
    ).sort("person_a", "person_b", "kind")


def _graph(nodes: pl.DataFrame, edges: pl.DataFrame) -> nx.MultiGraph[str]:
    graph: nx.MultiGraph[str] = nx.MultiGraph(marking=MARKING)
    for person, role, network, events, centrality in nodes.iter_rows():
        graph.add_node(person, label=person, role=role, network_id=network,
                       events=int(events), centrality=float(centrality))  # fmt: skip
    for network, a, b, kind, events, sources, weight in edges.iter_rows():
        graph.add_edge(a, b, key=f"{a}|{b}|{kind}", kind=kind, network_id=network,
                       events=events, sources=sources, weight=int(weight))  # fmt: skip
    return graph


def _write_csv(nodes: pl.DataFrame, edges: pl.DataFrame, paths: Sequence[Path]) -> None:
    # Id/Label and Source/Target/Type/Weight are the column names Gephi's import expects;
    # link-analysis tools map any header onto entity and link types
    node_rows = nodes.select(
        Id="person_id", Label="person_id", entity_type=pl.lit("Person"), role="role",
        network_id="network_id", events="events", centrality="centrality",
    )  # fmt: skip
    edge_rows = edges.select(
        Source="person_a", Target="person_b", Type=pl.lit("Undirected"), link_type="kind",
        network_id="network_id", events="events", sources="sources", Weight="weight",
    )  # fmt: skip
    for frame, path in ((node_rows, paths[0]), (edge_rows, paths[1])):
        with path.open("w", encoding="utf-8", newline="") as target:
            target.write(f"# {MARKING}\n")
            frame.write_csv(target)


def _marked_xml(write: Callable[[io.BytesIO], None], path: Path) -> None:
    """Write the XML ``write`` makes to ``path`` with the marking as a comment in its first
    line, right after the XML declaration (nothing may come before the declaration)."""
    buffer = io.BytesIO()
    write(buffer)
    declaration, _, rest = buffer.getvalue().partition(b"\n")
    path.write_bytes(declaration + f"<!-- {MARKING} -->\n".encode() + rest)


def _writer(
    kind: str, nodes: pl.DataFrame, edges: pl.DataFrame
) -> Callable[[Sequence[Path]], None]:
    if kind == "csv":
        return lambda paths: _write_csv(nodes, edges, paths)
    graph = _graph(nodes, edges)
    if kind == "graphml":
        return lambda paths: _marked_xml(lambda out: nx.write_graphml(graph, out), paths[0])
    return lambda paths: _marked_xml(lambda out: _write_gexf(graph, out), paths[0])


def _write_gexf(graph: nx.MultiGraph[str], target: io.BytesIO) -> None:
    writer = GEXFWriter(version="1.2draft")
    writer.add_graph(graph)
    # GEXF keeps no graph attributes; its <meta> has a description, which carries the marking
    meta = writer.xml.find("meta")
    ElementTree.SubElement(meta, "description").text = MARKING
    writer.write(target)


def export_networks(engine: Engine, folder: Path, formats: Sequence[str]) -> list[Path]:
    """Write the networks in each of ``formats`` (graphml, gexf, csv) into ``folder``, made if
    needed; returns the files written. Each file appears whole or not at all.

    Example::

        export_networks(engine, Path("out"), ["graphml", "csv"])
        # [out/networks.graphml, out/network_nodes.csv, out/network_edges.csv]
    """
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise UsageError(
            f"unknown export format {', '.join(unknown)}; choose from {', '.join(FORMATS)}"
        )
    if not engine.table_exists("network_member"):
        raise UsageError("no networks yet: run the networks stage first")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=OWNER_ONLY_FOLDER)
    except OSError as exc:
        raise OutputError(f"cannot create {folder}: {exc.strerror}") from exc
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    nodes, edges = _nodes(engine), _edges(engine)
    written: list[Path] = []
    for kind in dict.fromkeys(formats):
        targets = [folder / name for name in FILES[kind]]
        _write_whole(targets, _writer(kind, nodes, edges))
        written += targets
    logger.info(
        "person-level network export: %d nodes, %d edges as %s into %s",
        nodes.height, edges.height, ", ".join(dict.fromkeys(formats)), folder,
    )  # fmt: skip
    _record_run(engine, started, folder, written, nodes.height + edges.height)
    return written


def _record_run(
    engine: Engine, started: dt.datetime, folder: Path, written: list[Path], rows: int
) -> None:
    """The export's row in ``run``: nodes and edges read, files written."""
    record_run(
        engine, "networks_export", started, json.dumps({"folder": str(folder)}),
        json.dumps({"files": [path.name for path in written]}), rows, len(written),
    )  # fmt: skip


def _write_whole(targets: list[Path], write: Callable[[Sequence[Path]], None]) -> None:
    """Write to temporary names beside the targets, then move each into place."""
    partial = [target.with_name(f".{target.name}.partial") for target in targets]
    try:
        write(partial)
        for source, target in zip(partial, targets, strict=True):
            source.chmod(OWNER_ONLY_FILE)
            os.replace(source, target)
    except OSError as exc:
        raise OutputError(f"cannot write {targets[0]}: {exc.strerror}") from exc
    finally:
        for leftover in partial:
            leftover.unlink(missing_ok=True)
