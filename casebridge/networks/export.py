"""Networks as files a review team can open elsewhere: GraphML, GEXF (Gephi) and CSV entities
and links in the shape i2 Analyst's Notebook and other link-analysis tools import.

These are person-level exports: a person is a pseudonymous person id with its role, network,
event count and centrality, never a name or a date of birth. The CSV holds the networks' crimes
and reports as entities of their own too (date, offence, outcome), each linked to its people by
their role and dated; ``data/i2_import_spec.csv`` says how each column maps onto i2's entities,
links and attributes, and is written beside the CSV files. Each export is logged (counts only),
recorded in ``run``, readable by its owner only, and every file says in its first line that it
holds personal data: a ``# `` comment line in CSV, an XML comment after the declaration in
GraphML and GEXF (which Gephi, networkx and other XML readers skip).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
I2_SPEC = Path(__file__).parent / "data" / "i2_import_spec.csv"
FILES = {
    "graphml": ("networks.graphml",),
    "gexf": ("networks.gexf",),
    "csv": ("network_nodes.csv", "network_edges.csv", I2_SPEC.name),
}
LINK_COLUMNS = ("Source", "source_type", "Target", "target_type", "Type", "link_type",
                "network_id", "date", "last_date", "events", "sources", "Weight")  # fmt: skip
# the event facts a crime or report entity carries
EVENT_FACTS = """
SELECT e.event_id, e.source, e.kind, e.event_date, e.offence_code, e.offence_description,
    e.outcome_code, e.outcome_label, e.outcome_date
FROM event e WHERE e.event_id IN (SELECT event_id FROM cb_export_event)
"""
# each network member's part in each event behind the network's ties
EVENT_PEOPLE = """
SELECT DISTINCT u.network_id, l.person_id, i.role, u.event_id
FROM cb_export_event u
JOIN involvement i ON i.event_id = u.event_id
JOIN person_link l ON l.record_id = i.record_id
JOIN network_member m ON m.network_id = u.network_id AND m.person_id = l.person_id
"""
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


def _tie_frame(engine: Engine) -> pl.DataFrame:
    """network_edge as it is: the events and sources behind each tie as lists."""
    return engine.frame(
        "SELECT network_id, person_a, person_b, kind, events, sources FROM network_edge"
    )


def _edges(ties: pl.DataFrame) -> pl.DataFrame:
    return ties.with_columns(
        weight=pl.col("events").list.len(),
        events=pl.col("events").list.join("; "),
        sources=pl.col("sources").list.join("; "),
    ).sort("person_a", "person_b", "kind")


@dataclass(frozen=True)
class Crimes:
    """The events behind the networks' ties, as entities and dated links for i2."""

    events: pl.DataFrame  # one row per event: its facts and the networks it is in
    links: pl.DataFrame  # one row per member's part in an event: person, role, event, date


def _crimes(engine: Engine, ties: pl.DataFrame) -> Crimes:
    used = ties.select("network_id", event_id="events").explode("event_id").drop_nulls().unique()
    engine.create_table_from_arrow("cb_export_event", used, temporary=True)
    facts = engine.frame(EVENT_FACTS)
    networks = used.sort("network_id").group_by("event_id").agg(pl.col("network_id").str.join("; "))
    events = facts.join(networks, on="event_id", how="left").sort("event_id")
    links = (
        engine.frame(EVENT_PEOPLE)
        .join(facts.select("event_id", "source", "event_date"), on="event_id")
        .sort("person_id", "event_id", "role", "network_id")
    )
    return Crimes(events, links)


def _dated(ties: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """The ties with their first and last event dates (a link's date in i2 is when it began)."""
    numbered = ties.with_row_index("tie")
    dates = (
        numbered.select("tie", event_id="events")
        .explode("event_id")
        .join(events.select("event_id", "event_date"), on="event_id", how="left")
        .group_by("tie")
        .agg(date=pl.col("event_date").min(), last_date=pl.col("event_date").max())
    )
    return numbered.join(dates, on="tie", how="left").sort("tie").drop("tie")


def _graph(nodes: pl.DataFrame, edges: pl.DataFrame) -> nx.MultiGraph[str]:
    graph: nx.MultiGraph[str] = nx.MultiGraph(marking=MARKING)
    for person, role, network, events, centrality in nodes.iter_rows():
        graph.add_node(person, label=person, role=role, network_id=network,
                       events=int(events), centrality=float(centrality))  # fmt: skip
    tie_columns = ("network_id", "person_a", "person_b", "kind", "events", "sources", "weight")
    for network, a, b, kind, events, sources, weight in edges.select(tie_columns).iter_rows():
        graph.add_edge(a, b, key=f"{a}|{b}|{kind}", kind=kind, network_id=network,
                       events=events, sources=sources, weight=int(weight))  # fmt: skip
    return graph


def _person_rows(nodes: pl.DataFrame) -> pl.DataFrame:
    return nodes.select(
        Id="person_id", Label="person_id", entity_type=pl.lit("Person"), role="role",
        network_id="network_id", events="events", centrality="centrality",
    )  # fmt: skip


def _event_rows(events: pl.DataFrame) -> pl.DataFrame:
    """A crime (an event with an offence) or a report, with its date, offence and outcome."""

    def joined(code: str, words: str) -> pl.Expr:
        written = pl.concat_str([pl.col(code), pl.col(words)], separator=" ", ignore_nulls=True)
        return pl.when(pl.col(code).is_not_null()).then(written)

    return events.select(
        Id="event_id", Label="event_id",
        entity_type=pl.when(pl.col("offence_code").is_not_null() | (pl.col("kind") == "crime"))
        .then(pl.lit("Crime")).otherwise(pl.lit("Report")),
        network_id="network_id", event_kind="kind", date="event_date",
        offence=joined("offence_code", "offence_description"),
        outcome=joined("outcome_code", "outcome_label"), outcome_date="outcome_date",
        source="source",
    )  # fmt: skip


def _tie_rows(edges: pl.DataFrame) -> pl.DataFrame:
    return edges.select(
        Source="person_a", source_type=pl.lit("Person"), Target="person_b",
        target_type=pl.lit("Person"), Type=pl.lit("Undirected"), link_type="kind",
        network_id="network_id", date="date", last_date="last_date", events="events",
        sources="sources", Weight="weight",
    )  # fmt: skip


def _part_rows(crimes: Crimes) -> pl.DataFrame:
    """A person's part in a crime or report: the link is their role, dated by the event."""
    kinds = _event_rows(crimes.events).select(Target="Id", target_type="entity_type")
    parts = crimes.links.select(
        Source="person_id", source_type=pl.lit("Person"), Target="event_id",
        Type=pl.lit("Directed"), link_type="role", network_id="network_id", date="event_date",
        last_date="event_date", events="event_id", sources="source",
        Weight=pl.lit(1, dtype=pl.UInt32),
    )  # fmt: skip
    return parts.join(kinds, on="Target", how="left").select(LINK_COLUMNS)


def _write_csv(
    nodes: pl.DataFrame, edges: pl.DataFrame, crimes: Crimes, paths: Sequence[Path]
) -> None:
    """Entities (people, then crimes and reports) and links (ties between people, then each
    person's dated part in an event), and the i2 import specification, each file marked."""
    # Id/Label and Source/Target/Type/Weight are the column names Gephi's import expects;
    # data/i2_import_spec.csv maps every column onto i2 Analyst's Notebook's import
    entities = pl.concat([_person_rows(nodes), _event_rows(crimes.events)], how="diagonal")
    links = pl.concat([_tie_rows(edges), _part_rows(crimes)], how="vertical_relaxed")
    for frame, path in ((entities, paths[0]), (links, paths[1])):
        with path.open("w", encoding="utf-8", newline="") as target:
            target.write(f"# {MARKING}\n")
            frame.write_csv(target, date_format="%Y-%m-%d")
    with paths[2].open("w", encoding="utf-8", newline="") as target:
        target.write(f"# {MARKING}\n")
        target.write(I2_SPEC.read_text(encoding="utf-8"))


def _marked_xml(write: Callable[[io.BytesIO], None], path: Path) -> None:
    """Write the XML ``write`` makes to ``path`` with the marking as a comment in its first
    line, right after the XML declaration (nothing may come before the declaration)."""
    buffer = io.BytesIO()
    write(buffer)
    declaration, _, rest = buffer.getvalue().partition(b"\n")
    path.write_bytes(declaration + f"<!-- {MARKING} -->\n".encode() + rest)


def _writer(
    kind: str, nodes: pl.DataFrame, edges: pl.DataFrame, crimes: Crimes
) -> Callable[[Sequence[Path]], None]:
    if kind == "csv":
        return lambda paths: _write_csv(nodes, edges, crimes, paths)
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
    ties = _tie_frame(engine)
    nodes, crimes = _nodes(engine), _crimes(engine, ties)
    edges = _edges(_dated(ties, crimes.events))
    written: list[Path] = []
    for kind in dict.fromkeys(formats):
        targets = [folder / name for name in FILES[kind]]
        _write_whole(targets, _writer(kind, nodes, edges, crimes))
        written += targets
    logger.info(
        "person-level network export: %d people, %d events, %d ties, %d parts as %s into %s",
        nodes.height, crimes.events.height, edges.height, crimes.links.height,
        ", ".join(dict.fromkeys(formats)), folder,
    )  # fmt: skip
    rows = nodes.height + edges.height + crimes.events.height + crimes.links.height
    _record_run(engine, started, folder, written, rows)
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
    """Write to temporary names beside the targets, then move each into place. Each file is
    made readable by its owner only before a byte is written, whatever the umask."""
    partial = [target.with_name(f".{target.name}.partial") for target in targets]
    try:
        for path in partial:
            os.close(os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, OWNER_ONLY_FILE))
            path.chmod(OWNER_ONLY_FILE)
        write(partial)
        for source, target in zip(partial, targets, strict=True):
            source.chmod(OWNER_ONLY_FILE)
            os.replace(source, target)
    except OSError as exc:
        raise OutputError(f"cannot write {targets[0]}: {exc.strerror}") from exc
    finally:
        for leftover in partial:
            leftover.unlink(missing_ok=True)
