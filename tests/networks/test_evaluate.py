"""Network evaluation against a hand-made truth folder gives the numbers worked out by hand."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from casebridge.engine import Engine
from casebridge.errors import UsageError
from casebridge.networks.evaluate import adjusted_rand_index, evaluate_networks
from casebridge.networks.run import build_networks
from casebridge.workspace import NetworkSettings
from tests.networks.builders import add_event, new_engine

SUSPECT, VICTIM = ("suspect", 30), ("victim", 14)


def test_ari_matches_known_values() -> None:
    assert adjusted_rand_index(list("aabb"), list("xxyz")) == pytest.approx(4 / 7)
    assert adjusted_rand_index(list("aabb"), list("xyxy")) == pytest.approx(-0.5)
    assert adjusted_rand_index(list("abc"), list("xyz")) == 1.0


@given(st.lists(st.integers(0, 4), min_size=2, max_size=30), st.permutations(range(5)))
def test_ari_is_one_for_the_same_partition_under_other_names(
    labels: list[int], renaming: list[int]
) -> None:
    first = [str(label) for label in labels]
    second = [f"n{renaming[label]}" for label in labels]
    assert adjusted_rand_index(first, second) == pytest.approx(1.0)


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=2, max_size=30))
def test_ari_is_symmetric_and_at_most_one(pairs: list[tuple[int, int]]) -> None:
    first, second = [str(a) for a, _ in pairs], [str(b) for _, b in pairs]
    forward = adjusted_rand_index(first, second)
    assert forward == pytest.approx(adjusted_rand_index(second, first))
    assert forward <= 1.0 + 1e-12


def _workspace() -> Engine:
    """Planted P1 = {A, B, V1}, found whole; planted P2 = {C, D, V2, V3}, found without D and
    with E; a false tie (X, Y through W); one man recorded twice (S1, S2 through K)."""
    engine = new_engine()
    add_event(engine, "e1", {"PA": SUSPECT, "PV1": VICTIM})
    add_event(engine, "e2", {"PB": SUSPECT, "PV1": VICTIM})
    add_event(engine, "e3", {"PC": SUSPECT, "PV2": VICTIM})
    add_event(engine, "e4", {"PC": SUSPECT, "PE": SUSPECT, "PV3": VICTIM})
    add_event(engine, "e5", {"PD": SUSPECT, "PQ": ("victim", 40)}, band="16plus")
    add_event(engine, "e6", {"PX": SUSPECT, "PW": VICTIM})
    add_event(engine, "e7", {"PY": SUSPECT, "PW": VICTIM})
    add_event(engine, "r1", {"PS1": SUSPECT, "PK": VICTIM}, source="dtr", kind="duty_report",
              band=None)  # fmt: skip
    add_event(engine, "e8", {"PS2": SUSPECT, "PK": VICTIM})
    build_networks(engine, NetworkSettings())
    return engine


def _truth(folder: Path) -> Path:
    folder.mkdir()
    planted = {"P1": ["A", "B", "V1"], "P2": ["C", "D", "V2", "V3"]}
    pl.DataFrame({"network_id": ["P1", "P2"], "suspects": [2, 2], "victims": [1, 2]}).write_parquet(
        folder / "network.parquet"
    )
    pl.DataFrame(
        [(network, f"T{person}", "victim" if person.startswith("V") else "suspect")
         for network, people in planted.items() for person in people],
        schema=["network_id", "person_id", "role"], orient="row",
    ).write_parquet(folder / "network_member.parquet")  # fmt: skip
    people = ["A", "B", "C", "D", "E", "Q", "V1", "V2", "V3", "X", "Y", "W", "K"]
    records = [("force_a", f"P{p}", f"T{p}") for p in people]
    records += [("dtr", "PS1", "TS"), ("force_a", "PS2", "TS"), ("dtr", "PK", "TK")]
    pl.DataFrame(records, schema=["source", "local_id", "person_id"], orient="row").write_parquet(
        folder / "record_person.parquet"
    )
    return folder


def test_scores_on_a_hand_made_truth(tmp_path: Path) -> None:
    engine = _workspace()
    assert engine.query("SELECT network_id FROM network ORDER BY 1") == [
        ("N-PA",), ("N-PC",), ("N-PS1",), ("N-PX",)
    ]  # fmt: skip
    score = evaluate_networks(engine, _truth(tmp_path / "truth"))
    assert (score.planted, score.found, score.recovered) == (2, 4, 1)
    assert (score.invented, score.invented_one_suspect, score.fragments) == (2, 1, 0)
    assert score.recovered_share == 0.5
    # 13 true persons; pairs together in both: 3 (P1) + 3 (C, V2, V3); in truth 3 + 6 = 9; found
    # 3 + 6 + 3 + 1 = 13; expected 9 * 13 / 78 = 1.5; ARI = (6 - 1.5) / (11 - 1.5)
    assert score.ari == pytest.approx(9 / 19)


def test_a_folder_without_truth_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a truth folder"):
        evaluate_networks(_workspace(), tmp_path)


def test_evaluating_before_networks_says_to_build_them(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="networks stage"):
        evaluate_networks(new_engine(), tmp_path)
