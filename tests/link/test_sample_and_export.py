"""A force scores the linker on a sample its analysts labelled; the linkage leaves as a file.

The sample and the links are written here by hand, and the expected scores worked out by hand.
"""

from __future__ import annotations

import csv
import json
import os
import stat
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from casebridge.cli import app
from casebridge.engine import Engine
from casebridge.errors import UsageError
from casebridge.link.evaluate import (
    AGE_ONLY_SCOPE,
    evaluate_linkage,
    load_truth,
    records_not_linked,
)
from casebridge.link.export import MARKING, MARKING_KEY, export_links
from casebridge.standard.tables import create_tables
from casebridge.workspace import open_workspace

runner = CliRunner()

# predicted persons: P1 = {A1, A2, 400001}, P2 = {400002}, P3 = {LA01, LA02}
LINKS = [
    ("force_a:A1", "P1", 0.99), ("force_a:A2", "P1", 0.97), ("force_b:400001", "P1", 0.91),
    ("force_b:400002", "P2", 1.0), ("la:LA01", "P3", 0.95), ("la:LA02", "P3", 0.95),
]  # fmt: skip
# the analysts' labels: A1 and A2 are one person, 400001 and 400002 another, LA01 a third;
# LA02 is not labelled, and X9 is not in the workspace
SAMPLE = """# labelled by hand for this test
source,local_id,person_id,group
force_a,A1,analyst-1,x
force_a,A2,analyst-1,x
force_b,400001,analyst-2,y
force_b,400002,analyst-2,y
la,LA01,analyst-3,y
force_c,X9,analyst-4,y
"""


@pytest.fixture
def engine() -> Engine:
    engine = Engine()
    create_tables(engine)
    engine.execute(
        "CREATE TABLE person_link (record_id VARCHAR, person_id VARCHAR, probability DOUBLE)"
    )
    for record_id, person_id, probability in LINKS:
        engine.execute("INSERT INTO person_link VALUES (?, ?, ?)",
                       [record_id, person_id, probability])  # fmt: skip
        source, local_id = record_id.split(":")
        engine.execute("INSERT INTO person_record (record_id, source, local_id) VALUES (?, ?, ?)",
                       [record_id, source, local_id])  # fmt: skip
    return engine


def _sample(tmp_path: Path, text: str = SAMPLE, name: str = "sample.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_labelled_sample_is_scored_on_pairs_among_its_records(
    engine: Engine, tmp_path: Path
) -> None:
    scores = evaluate_linkage(engine, load_truth(_sample(tmp_path)))
    # predicted pairs among labelled records: A1-A2, A1-400001, A2-400001 (3);
    # true pairs: A1-A2, 400001-400002 (2); right: A1-A2 (1)
    overall = scores["all"]
    assert (overall.predicted_pairs, overall.true_pairs, overall.correct_pairs) == (3, 2, 1)
    assert overall.precision == pytest.approx(1 / 3)
    assert overall.recall == pytest.approx(1 / 2)
    assert overall.f1 == pytest.approx(0.4)
    # group x touches P1's three pairs, one of them true and right
    assert (scores["x"].predicted_pairs, scores["x"].true_pairs, scores["x"].recall) == (3, 1, 1)
    # group y: 400001's two wrong pairs in P1; its true pair 400001-400002 missed
    assert (scores["y"].predicted_pairs, scores["y"].true_pairs, scores["y"].recall) == (2, 1, 0)
    assert AGE_ONLY_SCOPE not in scores


def test_a_parquet_sample_without_groups_scores_overall_only(
    engine: Engine, tmp_path: Path
) -> None:
    frame = pl.read_csv(_sample(tmp_path), comment_prefix="#").drop("group")
    frame.write_parquet(tmp_path / "sample.parquet")
    scores = evaluate_linkage(engine, load_truth(tmp_path / "sample.parquet"))
    assert set(scores) == {"all", "clusters"}
    assert scores["all"].f1 == pytest.approx(0.4)


def test_a_sample_lacking_a_column_is_refused_in_one_line(tmp_path: Path) -> None:
    path = _sample(tmp_path, "source,local_id,group\nforce_a,A1,x\n")
    with pytest.raises(UsageError, match="no column 'person_id'") as caught:
        load_truth(path)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("source,local_id,person_id\nforce_a,A1,\n", "empty source, local_id or person_id"),
        ("source,local_id,person_id\nforce_a,A1,p\nforce_a,A1,q\n", "labelled twice"),
    ],
)
def test_a_sample_with_empty_or_repeated_records_is_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        load_truth(_sample(tmp_path, text))


def test_a_sample_of_another_kind_of_file_or_no_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"\.csv or \.parquet"):
        load_truth(_sample(tmp_path, "source\tlocal_id\n", "sample.tsv"))
    with pytest.raises(UsageError, match="does not exist"):
        load_truth(tmp_path / "missing.csv")


def test_a_sample_matching_no_record_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = _sample(tmp_path, "source,local_id,person_id\nforce_z,Q1,p\n")
    with pytest.raises(UsageError, match="none of the truth's records"):
        evaluate_linkage(engine, load_truth(path))


def test_the_sample_records_no_person_holds_are_counted(engine: Engine, tmp_path: Path) -> None:
    assert records_not_linked(engine, load_truth(_sample(tmp_path))) == 1  # X9


def test_age_only_records_get_a_scope_of_their_own(engine: Engine, tmp_path: Path) -> None:
    truth = load_truth(_sample(tmp_path)).with_columns(age_only=pl.col("record_id") == "la:LA01")
    scores = evaluate_linkage(engine, truth)
    # LA01 has no true partner and no predicted one among labelled records
    assert scores[AGE_ONLY_SCOPE].true_pairs == 0
    assert scores[AGE_ONLY_SCOPE].predicted_pairs == 0


# --- link export -------------------------------------------------------------------------------


def _owner_only(path: Path) -> bool:
    return stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_csv_export_is_marked_owner_only_and_recorded(engine: Engine, tmp_path: Path) -> None:
    path = export_links(engine, tmp_path / "links.csv", "csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"# {MARKING}"
    rows = list(csv.DictReader(lines[1:]))
    assert list(rows[0]) == ["source", "local_id", "person_id", "probability"]
    assert [(r["source"], r["local_id"], r["person_id"]) for r in rows][:2] == [
        ("force_a", "A1", "P1"), ("force_a", "A2", "P1")]  # fmt: skip
    assert float(rows[2]["probability"]) == pytest.approx(0.91)
    assert len(rows) == len(LINKS)
    assert _owner_only(path)
    assert engine.query("SELECT stage, rows_out FROM run") == [("link_export", 1)]


def test_a_parquet_export_carries_the_marking_in_its_metadata(
    engine: Engine, tmp_path: Path
) -> None:
    path = export_links(engine, tmp_path / "links.parquet", "parquet")
    metadata = pq.read_metadata(path).metadata
    assert metadata[MARKING_KEY.encode()].decode() == MARKING
    frame = pl.read_parquet(path)
    assert frame.columns == ["source", "local_id", "person_id", "probability"]
    assert frame.height == len(LINKS)
    assert _owner_only(path)


def test_an_export_before_linking_or_in_an_unknown_format_is_refused(tmp_path: Path) -> None:
    engine = Engine()
    create_tables(engine)
    with pytest.raises(UsageError, match="run 'casebridge link' first"):
        export_links(engine, tmp_path / "links.csv")
    with pytest.raises(UsageError, match="choose from csv, parquet"):
        export_links(engine, tmp_path / "links.xlsx", "xlsx")
    assert list(tmp_path.iterdir()) == []


# --- the command line --------------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A new workspace whose database holds the hand-written links."""
    root = tmp_path / "w"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    engine = open_workspace(root).connect()
    try:
        engine.execute(
            "CREATE TABLE person_link (record_id VARCHAR, person_id VARCHAR, probability DOUBLE)"
        )
        for record_id, person_id, probability in LINKS:
            source, local_id = record_id.split(":")
            engine.execute("INSERT INTO person_link VALUES (?, ?, ?)",
                           [record_id, person_id, probability])  # fmt: skip
            engine.execute(
                "INSERT INTO person_record (record_id, source, local_id) VALUES (?, ?, ?)",
                [record_id, source, local_id],
            )
    finally:
        engine.close()
    return root


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_link_export_from_the_command_line(workspace: Path, form: str) -> None:
    result = runner.invoke(app, ["link", "export", "--format", form, "-w", str(workspace)])
    assert result.exit_code == 0, result.output
    written = workspace / f"person_link.{form}"
    assert str(written) in result.output.replace("\n", "")
    frame = (
        pl.read_parquet(written) if form == "parquet" else pl.read_csv(written, comment_prefix="#")
    )
    assert frame.height == len(LINKS)
    assert _owner_only(written)


def test_link_export_refuses_an_unknown_format_in_one_line(workspace: Path) -> None:
    result = runner.invoke(app, ["link", "export", "--format", "xlsx", "-w", str(workspace)])
    assert result.exit_code == 2
    assert "choose from csv, parquet" in result.output


def test_evaluate_scores_a_labelled_sample_from_the_command_line(
    workspace: Path, tmp_path: Path
) -> None:
    sample = _sample(tmp_path)
    result = runner.invoke(
        app, ["evaluate", "--truth", str(sample), "-w", str(workspace), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    scores = {row["scope"]: row for row in document["linkage"]}
    assert set(scores) == {"all", "clusters", "x", "y"}
    assert scores["all"]["f1"] == pytest.approx(0.4)
    # a sample scores linkage only: its pairs, blocking and the constraints; and says how many
    # of its records were left out (X9 is not in the workspace)
    assert set(document) == {"sample", "linkage", "blocking", "constraints"}
    assert document["sample"] == [{"labelled": 6, "found": 5, "not_found": 1}]


def test_evaluate_says_how_many_sample_records_it_left_out(workspace: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["evaluate", "--truth", str(_sample(tmp_path)), "-w", str(workspace)]
    )
    assert result.exit_code == 0, result.output
    assert "6 records, 5 scored, 1 not among the workspace's linked records" in result.stdout


def test_evaluate_refuses_a_sample_none_of_whose_records_is_linked_in_one_line(
    workspace: Path, tmp_path: Path
) -> None:
    sample = _sample(tmp_path, "source,local_id,person_id\nforce_z,Q1,p\nforce_a,A9,p\n")
    result = runner.invoke(app, ["evaluate", "--truth", str(sample), "-w", str(workspace)])
    assert result.exit_code == 2
    assert "none of the truth's records" in result.output
    assert len(result.output.strip().splitlines()) == 1
