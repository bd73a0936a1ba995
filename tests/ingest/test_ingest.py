"""Ingest end to end: nothing lost, nothing doubled, whole-file problems leave no trace."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from casebridge.engine import Engine
from casebridge.errors import IngestError, MappingError
from casebridge.ingest.mapping import load_mapping
from casebridge.ingest.run import ingest
from casebridge.workspace import open_workspace
from tests.ingest.helpers import SIMPLE_CSV, SIMPLE_MAPPING, make_workspace, table_counts


def _frame(workspace_root: Path, query: str) -> pl.DataFrame:
    engine = Engine(workspace_root / "casebridge.duckdb")
    try:
        return engine.frame(query)
    finally:
        engine.close()


@pytest.fixture(scope="module")
def ingested(synth_out: Path) -> Path:
    ingest(open_workspace(synth_out))
    return synth_out


def test_exactly_the_planted_broken_rows_are_quarantined(ingested: Path) -> None:
    truth = pl.read_parquet(ingested / "truth" / "malformed_row.parquet")
    planted = truth.filter(pl.col("handling") == "quarantine").select("source", "row_number")
    quarantined = _frame(ingested, "SELECT source, row_number FROM quarantine")
    assert sorted(quarantined.rows()) == sorted(planted.rows())
    assert len(planted) > 10


def test_exactly_the_planted_bad_values_are_set_aside(ingested: Path) -> None:
    truth = pl.read_parquet(ingested / "truth" / "malformed_row.parquet")
    planted = truth.filter(pl.col("handling") == "set_aside")
    found = _frame(
        ingested,
        "SELECT source, row_number, raw_value, field, problem FROM finding "
        "WHERE problem <> 'conflicting_value'",
    )
    planted_values = set(planted.select("source", "row_number", "raw_value").rows())
    found_values = {row[:3] for row in found.rows()}
    assert planted_values <= found_values
    # beyond those, only the wordings the generator writes and no shipped list holds (its
    # 'unusual' ethnicity and nationality words, docs/synth.md): findings, never silent
    others = {row[3:] for row in found.rows() if row[:3] not in planted_values}
    assert others <= {("ethnicity_self", "unmapped_text"), ("nationality", "unmapped_text")}
    # one finding per value: none doubled
    assert found.height == found.unique(["source", "row_number", "field"]).height
    kinds = {"impossible_date", "unknown_code", "malformed_postcode"}
    assert set(_frame(ingested, "SELECT DISTINCT problem FROM finding")["problem"]) >= kinds - {
        "impossible_date"
    }


def test_rows_read_equal_rows_loaded_plus_quarantined(ingested: Path) -> None:
    sources = _frame(ingested, "SELECT * FROM source")
    assert sources.height == 5
    for row in sources.iter_rows(named=True):
        assert row["rows_read"] == row["rows_loaded"] + row["rows_quarantined"]
    per_source = _frame(ingested, "SELECT source, count(*) AS n FROM quarantine GROUP BY source")
    counted = dict(per_source.rows())
    assert {
        r["source"]: r["rows_quarantined"]
        for r in sources.iter_rows(named=True)
        if r["rows_quarantined"]
    } == counted


def test_a_bad_value_never_hides_a_person(ingested: Path) -> None:
    hidden = _frame(
        ingested,
        "SELECT f.source, f.local_id FROM finding f LEFT JOIN person_record p "
        "ON p.source = f.source AND p.local_id = f.local_id "
        "WHERE f.field = 'date_of_birth' AND p.record_id IS NULL",
    )
    assert hidden.height == 0
    assert (
        _frame(ingested, "SELECT count(*) AS n FROM finding WHERE field = 'date_of_birth'")["n"][0]
        > 0
    )


def test_every_record_in_the_truth_is_loaded_unless_all_its_rows_were_broken(
    ingested: Path,
) -> None:
    truth = pl.read_parquet(ingested / "truth" / "record_person.parquet")
    loaded = _frame(ingested, "SELECT source, local_id FROM person_record")
    missing = truth.join(loaded, on=["source", "local_id"], how="anti")
    broken = pl.read_parquet(ingested / "truth" / "malformed_row.parquet").filter(
        pl.col("handling") == "quarantine"
    )
    assert set(missing["local_id"]) <= set(broken["local_id"])


def test_reingesting_an_identical_file_changes_nothing(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "w", {"simple": ("a.csv", SIMPLE_CSV, SIMPLE_MAPPING)})
    first = ingest(workspace)
    before = table_counts(workspace)
    second = ingest(workspace)
    assert [r.status for r in first] == ["loaded"]
    assert [r.status for r in second] == ["unchanged"]
    assert table_counts(workspace) == before


def test_a_new_version_replaces_the_old_and_is_recorded(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "w", {"simple": ("a.csv", SIMPLE_CSV, SIMPLE_MAPPING)})
    ingest(workspace)
    (tmp_path / "w" / "extracts" / "a.csv").write_text(SIMPLE_CSV.rsplit("\n", 2)[0] + "\n")
    [report] = ingest(workspace)
    assert report.status == "replaced"
    assert (report.rows_read, report.rows_loaded) == (2, 2)
    history = _frame(
        tmp_path / "w", "SELECT version, replaced_hash FROM source_history ORDER BY version"
    )
    assert history["version"].to_list() == [1, 2]
    assert history["replaced_hash"][0] is None and history["replaced_hash"][1] is not None
    assert table_counts(workspace)["involvement"] == 2


def test_values_are_standardised_and_bad_ones_set_aside(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "w", {"simple": ("a.csv", SIMPLE_CSV, SIMPLE_MAPPING)})
    ingest(workspace)
    people = _frame(
        tmp_path / "w",
        "SELECT local_id, forename, middle_names, surname, date_of_birth, dob_raw, postcode "
        "FROM person_record ORDER BY local_id",
    )
    assert people.row(0) == (
        "P1",
        "jane",
        None,
        "smith",
        __import__("datetime").date(2008, 2, 1),
        "01/02/2008",
        "BD3 7AB",
    )
    # P2's first row has an impossible date; the second row's good one is kept
    assert people.row(1)[:5] == (
        "P2",
        "mark",
        "paul",
        "jones",
        __import__("datetime").date(1980, 4, 3),
    )
    findings = _frame(
        tmp_path / "w", "SELECT row_number, field, raw_value, problem FROM finding ORDER BY 1"
    )
    assert findings.rows() == [
        (2, "date_of_birth", "30/02/1980", "impossible_date"),
        (3, "postcode", "not a postcode", "malformed_postcode"),
    ]


def test_hostile_content_is_stored_verbatim_and_never_run(tmp_path: Path) -> None:
    hostile = "Robert'); DROP TABLE person_record;--"
    formula = '=HYPERLINK("http://example.invalid","x")'
    quoted = f"{hostile}, {formula}".replace('"', '""')
    csv = f'Ref,PersonID,Role,Name,DOB,Date,Postcode\nC1,P1,Victim,"{quoted}",,01/01/2020,\n'
    workspace = make_workspace(tmp_path / "w", {"simple": ("a.csv", csv, SIMPLE_MAPPING)})
    ingest(workspace)
    stored = _frame(tmp_path / "w", "SELECT full_name_raw FROM person_record")
    assert stored["full_name_raw"].to_list() == [f"{hostile}, {formula}"]
    assert table_counts(workspace)["person_record"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "Ref,PersonID,Role,Name,DOB,Date\nC1,P1,Victim,x,,01/01/2020\n",
            "required column 'Postcode'",
        ),
        ("", "the file is empty"),
    ],
)
def test_a_whole_file_problem_stops_the_source_and_leaves_the_workspace_as_it_was(
    tmp_path: Path, content: str, message: str
) -> None:
    workspace = make_workspace(
        tmp_path / "w",
        {"good": ("good.csv", SIMPLE_CSV, SIMPLE_MAPPING.replace("simple", "good")),
         "simple": ("a.csv", SIMPLE_CSV, SIMPLE_MAPPING)},
    )  # fmt: skip
    ingest(workspace, ["good", "simple"])
    before = table_counts(workspace)
    (tmp_path / "w" / "extracts" / "a.csv").write_text(content)
    with pytest.raises(IngestError, match=message):
        ingest(workspace, ["simple"])
    assert table_counts(workspace) == before


def test_a_declared_encoding_that_does_not_fit_is_a_clear_error(tmp_path: Path) -> None:
    mapping = SIMPLE_MAPPING.replace("format: csv", "format: csv\nreader: {encoding: utf-8}")
    workspace = make_workspace(tmp_path / "w", {"simple": ("a.csv", "", mapping)})
    (tmp_path / "w" / "extracts" / "a.csv").write_bytes(
        SIMPLE_CSV.replace("SMITH", "ŠMITH").encode("cp1252")
    )
    with pytest.raises(IngestError, match="not readable as utf-8"):
        ingest(workspace)


def test_cp1252_is_detected_when_the_encoding_is_auto(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "w", {"simple": ("a.csv", "", SIMPLE_MAPPING)})
    (tmp_path / "w" / "extracts" / "a.csv").write_bytes(
        SIMPLE_CSV.replace("SMITH", "ŠMITH").encode("cp1252")
    )
    ingest(workspace)
    assert _frame(
        tmp_path / "w", "SELECT surname_raw, surname FROM person_record WHERE local_id = 'P1'"
    ).row(0) == (None, "smith")


@pytest.mark.parametrize(
    ("change", "line", "expected"),
    [
        (
            ("    postcode: Postcode", "    postcode: Postcode\n    colour: Blue"),
            13,
            "unknown key 'colour'",
        ),
        (("  local_id: Ref\n", ""), 4, "missing required key 'local_id'"),
        (("format: csv", "format: docx"), 2, "format"),
    ],
)
def test_a_mapping_mistake_names_the_file_and_line(
    tmp_path: Path, change: tuple[str, str], line: int, expected: str
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(SIMPLE_MAPPING.replace(*change))
    with pytest.raises(MappingError, match=rf"m\.yaml, line {line}: .*{expected}"):
        load_mapping(path)
