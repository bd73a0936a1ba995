"""Per-network measures computed in memory on the small subgraphs: how many distinct people
the suspects may be, and who holds each network together (betweenness centrality)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import networkx as nx
import polars as pl

logger = logging.getLogger(__name__)
CENTRAL_SUSPECTS = 3  # how many suspects a network names as its most central
EXACT_LIMIT = 2_000  # above this many members, betweenness is estimated from a sample
SAMPLE = 500  # sources sampled for the estimate (fixed seed: reruns agree)
OBSERVED = ("suspect_victim", "co_suspect")  # ties seen in records; shared_victim is derived


@dataclass(frozen=True)
class NetworkMeasures:
    """What the in-memory pass found for one candidate network."""

    network_id: str
    distinct_suspects: int
    central_suspects: list[str]
    centrality: dict[str, float]


def distinct_suspects(suspects: list[str], maybe_same: list[tuple[str, str]],
                      co_suspects: set[tuple[str, str]]) -> int:  # fmt: skip
    """How many people the suspects are at least, taking each pair that may be one person as
    one; two people named as suspects of one event are two people whatever their records say.
    """
    graph: nx.Graph[str] = nx.Graph()
    graph.add_nodes_from(sorted(suspects))
    graph.add_edges_from(pair for pair in maybe_same if pair not in co_suspects)
    return nx.number_connected_components(graph)


def betweenness(members: list[str], ties: list[tuple[str, str]]) -> dict[str, float]:
    """Normalised betweenness of every member over the observed ties (exact up to
    :data:`EXACT_LIMIT` members, else estimated from :data:`SAMPLE` sources)."""
    graph: nx.Graph[str] = nx.Graph()
    graph.add_nodes_from(sorted(members))
    graph.add_edges_from(sorted(ties))
    if graph.number_of_nodes() <= EXACT_LIMIT:
        return dict(nx.betweenness_centrality(graph, normalized=True))
    logger.warning(
        "a network of %d members: betweenness estimated from %d sources",
        graph.number_of_nodes(),
        SAMPLE,
    )
    return dict(nx.betweenness_centrality(graph, k=SAMPLE, normalized=True, seed=0))


def most_central(suspects: list[str], centrality: dict[str, float],
                 ties: list[tuple[str, str]]) -> list[str]:  # fmt: skip
    """The suspects with the highest betweenness, ties broken by degree, then person id."""
    degree: dict[str, int] = {}
    for a, b in ties:
        degree[a] = degree.get(a, 0) + 1
        degree[b] = degree.get(b, 0) + 1
    ranked = sorted(suspects, key=lambda p: (-centrality.get(p, 0.0), -degree.get(p, 0), p))
    return ranked[:CENTRAL_SUSPECTS]


def measure_networks(
    members: pl.DataFrame, edges: pl.DataFrame, maybe_same: pl.DataFrame
) -> list[NetworkMeasures]:
    """Measures of every candidate network, from its members (network_id, person_id, role),
    ties (network_id, person_a, person_b, kind) and pairs of suspects that may be one person
    (network_id, person_a, person_b)."""
    member_lists = members.group_by("network_id").agg("person_id", "role")
    tie_lists = edges.group_by("network_id").agg("person_a", "person_b", "kind")
    same_lists = maybe_same.group_by("network_id").agg("person_a", "person_b")
    ties_of = {row[0]: row[1:] for row in tie_lists.iter_rows()}
    same_of = {row[0]: list(zip(row[1], row[2], strict=True)) for row in same_lists.iter_rows()}
    measures = []
    for network_id, people, roles in member_lists.sort("network_id").iter_rows():
        suspects = sorted(p for p, r in zip(people, roles, strict=True) if r == "suspect")
        person_a, person_b, kinds = ties_of.get(network_id, ([], [], []))
        typed = list(zip(person_a, person_b, kinds, strict=True))
        observed = [(a, b) for a, b, kind in typed if kind in OBSERVED]
        co_suspects = {(min(a, b), max(a, b)) for a, b, kind in typed if kind == "co_suspect"}
        centrality = betweenness(people, observed)
        measures.append(
            NetworkMeasures(
                network_id,
                distinct_suspects(suspects, same_of.get(network_id, []), co_suspects),
                most_central(suspects, centrality, observed),
                centrality,
            )
        )
    return measures
