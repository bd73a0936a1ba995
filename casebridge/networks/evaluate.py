"""Networks found against the planted networks of a synthetic truth folder.

Only ``evaluate`` reads a truth folder; the pipeline never does. Truth person ids are not
pipeline person ids, so each planted member is mapped through its records: truth
``record_person`` (source, local_id) → record ``source:local_id`` → ``person_link``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from casebridge.engine import Engine
from casebridge.errors import UsageError
from casebridge.truth import read_truth, record_ids

RECOVERED_SHARE = 0.9  # a planted network is recovered when one found network holds this much


@dataclass(frozen=True)
class NetworkScore:
    """How well the networks found match the planted ones.

    ``recovered``: planted networks whose best-overlapping found network holds at least 90 %
    of their members. ``ari``: adjusted Rand index over members (see
    :func:`adjusted_rand_index`). ``invented``: found networks holding no planted member, of
    which ``invented_one_suspect`` have suspects who are all one true person (a split the
    linkage left). ``fragments``: found networks holding planted members that are no planted
    network's best match.
    """

    planted: int
    found: int
    recovered: int
    ari: float
    invented: int
    invented_one_suspect: int
    fragments: int

    @property
    def recovered_share(self) -> float:
        return self.recovered / self.planted if self.planted else 1.0


def _pairs(count: int) -> int:
    return count * (count - 1) // 2


def adjusted_rand_index(first: list[str], second: list[str]) -> float:
    """Adjusted Rand index (Hubert and Arabie, 1985) of two labellings of the same items: 1
    for the same partition, about 0 for chance agreement; 1 when both are trivial alike."""
    if len(first) != len(second):
        raise ValueError("both labellings must label the same items")
    together = sum(_pairs(n) for n in Counter(zip(first, second, strict=True)).values())
    rows = sum(_pairs(n) for n in Counter(first).values())
    columns = sum(_pairs(n) for n in Counter(second).values())
    total = _pairs(len(first))
    expected = rows * columns / total if total else 0.0
    best = (rows + columns) / 2
    if best == expected:
        return 1.0
    return (together - expected) / (best - expected)


def _read_truth(truth: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    members, records, planted = read_truth(truth, "network_member", "record_person", "network")
    members = members.filter(pl.col("network_id").is_in(planted["network_id"].implode()))
    return members.select("network_id", true_person_id="person_id"), record_ids(records)


def _found(engine: Engine, records: pl.DataFrame) -> pl.DataFrame:
    """(true_person_id, person_id, network_id, role) for every found member, through records."""
    found = engine.frame(
        "SELECT m.network_id, m.person_id, m.role, l.record_id FROM network_member m "
        "JOIN person_link l ON l.person_id = m.person_id"
    )
    return (
        found.join(records, on="record_id")
        .select("true_person_id", "person_id", "network_id", "role")
        .unique()
    )


def evaluate_networks(engine: Engine, truth: Path) -> NetworkScore:
    """Score the ``network_member`` table against a truth folder's planted networks."""
    if not engine.table_exists("network_member"):
        raise UsageError("no networks yet: run the networks stage first")
    planted, records = _read_truth(truth)
    found = _found(engine, records)
    holding = planted.join(
        found.select("true_person_id", found_id="network_id"), on="true_person_id", how="left"
    ).unique()
    sizes = planted.group_by("network_id").len("size")
    overlap = (
        holding.drop_nulls("found_id")
        .group_by("network_id", "found_id")
        .agg(pl.col("true_person_id").n_unique().alias("held"))
        .sort("held", "found_id", descending=[True, False])
        .unique("network_id", keep="first")
        .join(sizes, on="network_id")
    )
    recovered = overlap.filter(pl.col("held") >= RECOVERED_SHARE * pl.col("size")).height
    found_ids = set(found["network_id"].unique())
    touched = set(holding["found_id"].drop_nulls().unique())
    invented = found_ids - touched
    return NetworkScore(
        planted=sizes.height,
        found=len(found_ids),
        recovered=recovered,
        ari=_member_ari(planted, found),
        invented=len(invented),
        invented_one_suspect=_one_suspect(found, invented),
        fragments=len(touched - set(overlap["found_id"])),
    )


def _member_ari(planted: pl.DataFrame, found: pl.DataFrame) -> float:
    """ARI over true persons who are planted members or found members. A person outside any
    planted (or found) network is a cluster of its own; one found in several networks takes
    the first by network id."""
    truth_of = dict(
        planted.unique("true_person_id", keep="first")
        .select("true_person_id", "network_id")
        .iter_rows()
    )
    found_of = dict(
        found.sort("network_id")
        .unique("true_person_id", keep="first")
        .select("true_person_id", "network_id")
        .iter_rows()
    )
    people = sorted(set(truth_of) | set(found_of))
    return adjusted_rand_index(
        [truth_of.get(p, f"~{p}") for p in people], [found_of.get(p, f"~{p}") for p in people]
    )


def _one_suspect(found: pl.DataFrame, invented: set[str]) -> int:
    suspects = found.filter(
        (pl.col("role") == "suspect") & pl.col("network_id").is_in(list(invented))
    )
    people = suspects.group_by("network_id").agg(pl.col("true_person_id").n_unique().alias("n"))
    return people.filter(pl.col("n") < 2).height
