"""Exports parse back as what they claim to be, and carry ids and roles, never names."""

from __future__ import annotations

import csv
import os
import stat
from pathlib import Path
from xml.etree import ElementTree

import networkx as nx
import pytest

from casebridge.engine import Engine
from casebridge.errors import UsageError
from casebridge.networks.export import MARKING, export_networks
from casebridge.networks.run import build_networks
from casebridge.workspace import NetworkSettings
from tests.networks.builders import add_event, new_engine

GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"


@pytest.fixture
def engine() -> Engine:
    engine = new_engine()
    add_event(engine, "E1", {"S1": ("suspect", 30), "S2": ("suspect", 41),
                             "V1": ("victim", 14)})  # fmt: skip
    add_event(engine, "E2", {"S3": ("suspect", 25), "V1": ("victim", 14)}, source="force_b")
    add_event(engine, "E3", {"S4": ("suspect", 50), "V2": ("victim", 13)})  # no group
    build_networks(engine, NetworkSettings())
    return engine


def test_every_format_is_written_and_listed(engine: Engine, tmp_path: Path) -> None:
    written = export_networks(engine, tmp_path / "out", ["graphml", "gexf", "csv"])
    names = ["networks.graphml", "networks.gexf", "network_nodes.csv", "network_edges.csv",
             "i2_import_spec.csv"]  # fmt: skip
    assert written == [tmp_path / "out" / name for name in names]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(names)


def test_graphml_is_well_formed_and_holds_the_network(engine: Engine, tmp_path: Path) -> None:
    [path] = export_networks(engine, tmp_path, ["graphml"])
    root = ElementTree.parse(path).getroot()
    assert root.tag == f"{GRAPHML}graphml"
    # ids, roles and counts only: no name, birth date or address is written
    keys = {(key.get("for"), key.get("attr.name")) for key in root.iter(f"{GRAPHML}key")}
    assert keys == {("graph", "marking")} | {
        ("node", name) for name in ("label", "role", "network_id", "events", "centrality")
    } | {("edge", name) for name in ("kind", "network_id", "events", "sources", "weight")}
    graph = nx.read_graphml(path, force_multigraph=True)
    assert graph.graph["marking"] == MARKING
    assert sorted(graph.nodes) == ["S1", "S2", "S3", "V1"]
    assert {graph.nodes[n]["role"] for n in ("S1", "S2", "S3")} == {"suspect"}
    assert graph.nodes["V1"]["network_id"] == "N-S1"
    kinds = sorted(data["kind"] for _, _, data in graph.edges(data=True))
    assert kinds == ["co_suspect"] + ["shared_victim"] * 2 + ["suspect_victim"] * 3


def test_gexf_is_well_formed_and_marked(engine: Engine, tmp_path: Path) -> None:
    [path] = export_networks(engine, tmp_path, ["gexf"])
    root = ElementTree.parse(path).getroot()
    namespace = "{http://www.gexf.net/1.2draft}"
    assert root.findtext(f"{namespace}meta/{namespace}description") == MARKING
    graph = nx.read_gexf(path)
    assert sorted(graph.nodes) == ["S1", "S2", "S3", "V1"]
    assert graph.number_of_edges() == 6
    shared = [d for _, _, d in graph.edges(data=True) if d["kind"] == "shared_victim"]
    assert {d["events"] for d in shared} == {"force_a:E1; force_b:E2"}


def test_csv_nodes_and_edges_have_link_chart_headers(engine: Engine, tmp_path: Path) -> None:
    nodes_path, edges_path, _ = export_networks(engine, tmp_path, ["csv"])
    with nodes_path.open(encoding="utf-8") as f:
        assert f.readline() == f"# {MARKING}\n"  # the marking, then plain CSV
        nodes = list(csv.DictReader(f))
    with edges_path.open(encoding="utf-8") as f:
        assert f.readline() == f"# {MARKING}\n"
        edges = list(csv.DictReader(f))
    assert list(nodes[0]) == ["Id", "Label", "entity_type", "role", "network_id", "events",
                              "centrality", "event_kind", "date", "offence", "outcome",
                              "outcome_date", "source"]  # fmt: skip
    assert list(edges[0]) == ["Source", "source_type", "Target", "target_type", "Type",
                              "link_type", "network_id", "date", "last_date", "events",
                              "sources", "Weight"]  # fmt: skip
    people = {row["Id"] for row in nodes if row["entity_type"] == "Person"}
    assert people == {"S1", "S2", "S3", "V1"}
    assert {row["Source"] for row in edges} == people


def test_an_unknown_format_is_refused(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="choose from graphml, gexf, csv"):
        export_networks(engine, tmp_path, ["graphml", "pdf"])
    assert list(tmp_path.iterdir()) == []


def test_export_before_networks_says_to_build_them(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="networks stage"):
        export_networks(new_engine(), tmp_path, ["csv"])


def test_every_export_says_in_its_first_line_that_it_holds_personal_data(
    engine: Engine, tmp_path: Path
) -> None:
    for path in export_networks(engine, tmp_path, ["graphml", "gexf", "csv"]):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert "PERSONAL DATA" in first, path.name
        if path.suffix != ".csv":  # still well-formed XML, the marking a comment after the
            assert first.startswith("<?xml ")  # declaration, so every reader skips it
            assert first.endswith(f"<!-- {MARKING} -->")
    assert len(nx.read_gexf(tmp_path / "networks.gexf")) == 4
    assert len(nx.read_graphml(tmp_path / "networks.graphml")) == 4


def test_exports_are_readable_by_their_owner_only_and_recorded_in_run(
    engine: Engine, tmp_path: Path
) -> None:
    previous = os.umask(0o022)
    try:
        written = export_networks(engine, tmp_path / "out", ["graphml", "csv"])
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o700
    assert {stat.S_IMODE(path.stat().st_mode) for path in written} == {0o600}
    exported = "SELECT rows_out FROM run WHERE stage = 'networks_export'"
    assert engine.query(exported) == [(4,)]


def _rows(path: Path) -> list[dict[str, str]]:
    """A CSV export's rows, its '#' lines (the marking, a spec's notes) left out."""
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def test_csv_holds_each_crime_with_its_date_offence_and_outcome_and_dated_links(
    tmp_path: Path,
) -> None:
    engine = new_engine()
    add_event(engine, "E1", {"S1": ("suspect", 30), "V1": ("victim", 14)}, on="2019-03-04")
    add_event(engine, "E2", {"S2": ("suspect", 41), "V1": ("victim", 15)}, on="2020-07-08",
              source="force_b", outcome="charge")  # fmt: skip
    add_event(engine, "E3", {"S4": ("suspect", 50), "V2": ("victim", 13)})  # no group
    engine.execute(
        "UPDATE event SET offence_code = '22B', offence_description = 'Sexual activity "
        "involving child under 16', outcome_code = '16', outcome_label = 'Evidential "
        "difficulties (victim does not support action)', outcome_date = DATE '2019-09-30' "
        "WHERE event_id = 'force_a:E1'"
    )
    build_networks(engine, NetworkSettings())
    nodes_path, edges_path, _ = export_networks(engine, tmp_path, ["csv"])
    events = {row["Id"]: row for row in _rows(nodes_path) if row["entity_type"] != "Person"}
    assert set(events) == {"force_a:E1", "force_b:E2"}  # the group's events, not E3
    crime = events["force_a:E1"]
    assert (crime["entity_type"], crime["date"], crime["outcome_date"]) == (
        "Crime", "2019-03-04", "2019-09-30"
    )  # fmt: skip
    assert crime["offence"] == "22B Sexual activity involving child under 16"
    assert crime["outcome"].startswith("16 Evidential difficulties")
    assert crime["network_id"] == "N-S1" and crime["source"] == "force_a"
    links = _rows(edges_path)
    parts = {(r["Source"], r["link_type"], r["Target"], r["date"]) for r in links
             if r["target_type"] != "Person"}  # fmt: skip
    assert parts == {
        ("S1", "suspect", "force_a:E1", "2019-03-04"), ("V1", "victim", "force_a:E1", "2019-03-04"),
        ("S2", "suspect", "force_b:E2", "2020-07-08"), ("V1", "victim", "force_b:E2", "2020-07-08"),
    }  # fmt: skip
    [shared] = [r for r in links if r["link_type"] == "shared_victim"]
    assert (shared["date"], shared["last_date"]) == ("2019-03-04", "2020-07-08")


def test_the_i2_specification_maps_every_column_of_both_files(
    engine: Engine, tmp_path: Path
) -> None:
    nodes_path, edges_path, spec_path = export_networks(engine, tmp_path, ["csv"])
    assert spec_path.read_text(encoding="utf-8").startswith(f"# {MARKING}\n")
    spec = _rows(spec_path)
    for path in (nodes_path, edges_path):
        with path.open(encoding="utf-8") as f:
            header = next(csv.reader(line for line in f if not line.startswith("#")))
        mapped = [row["column"] for row in spec if row["file"] == path.name]
        assert mapped == header, path.name
    identities = {(row["file"], row["i2_item"]) for row in spec if "identity" in row["i2_item"]}
    assert identities == {
        ("network_nodes.csv", "entity identity"), ("network_edges.csv", "link end 1 identity"),
        ("network_edges.csv", "link end 2 identity"),
    }  # fmt: skip
    dates = [row["column"] for row in spec if row["format"] == "yyyy-MM-dd"]
    assert dates == ["date", "outcome_date", "date", "last_date"]
