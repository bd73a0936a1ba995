"""What the audit publishes, read as an attacker and as a reader would read it.

- The disclosure attack: every published table, read together by someone who knows what each
  column means (docs/audit.md), at every documented setting, recovers no suppressed count,
  neither by integer programming nor by subtraction over shared totals.
- No figure is derived from a suppressed count beyond what the suppression allows: no share of
  known for it, and the range published for it (``persons_low``, ``persons_high``, and the
  bounds worked out from them) is never narrower than what the publication itself leaves open.
- The shares of known of one classification never add up to more than 100 %, in the tables
  and in the report's charts.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from casebridge.audit.disclosure import DisclosureSettings
from casebridge.audit.evaluate import evaluate_audit
from casebridge.audit.report import render_report
from casebridge.audit.run import audit, build_tables
from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine
from tests.audit.attack import range_of, read_publication, solved, subtracted, truth_of

from .helpers import small_synthetic_workspace, tiny_workspace

# the documented settings: the default, the smallest threshold and base allowed, and others
SETTINGS = [(10, 5), (2, 1), (3, 1), (10, 1), (5, 3), (3, 10), (20, 5)]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_synthetic_workspace(tmp_path_factory.mktemp("publication") / "ws")


def _attack(engine: Engine, threshold: int, base: int) -> tuple[list[object], list[object], int]:
    control = DisclosureSettings(threshold=threshold, rounding_base=base)
    _, pairs = build_tables(engine, AuditSettings(disclosure=control))
    published = {name: public for name, (_, public) in pairs.items()}
    reader = read_publication(published, threshold, base)
    truth = truth_of({name: exact for name, (exact, _) in pairs.items()})
    return solved(reader, truth), subtracted(reader), len(reader.secret)


@pytest.mark.parametrize(("threshold", "base"), SETTINGS)
def test_no_suppressed_count_is_recovered_from_all_tables_together(
    workspace: Path, threshold: int, base: int
) -> None:
    engine = Engine(workspace / "casebridge.duckdb")
    try:
        by_solver, by_subtraction, suppressed = _attack(engine, threshold, base)
    finally:
        engine.close()
    assert suppressed > 20  # the attack has something to work on
    assert by_solver == []
    assert by_subtraction == []


@pytest.mark.parametrize(("threshold", "base"), SETTINGS)
def test_no_suppressed_count_of_a_tiny_workspace_is_recovered(threshold: int, base: int) -> None:
    by_solver, by_subtraction, suppressed = _attack(tiny_workspace(), threshold, base)
    assert suppressed > 0
    assert (by_solver, by_subtraction) == ([], [])


def test_the_attack_finds_a_count_left_exposed() -> None:
    """The attacker is not toothless: with one count suppressed alone beside its total (the
    shape second suppression exists for), it falls out: 25 + 2 - 13 - 13 leaves 1."""
    reader = read_publication(_exposed(), 10, 5)
    assert ("records per person", "3") in solved(reader)
    assert ("records per person", "3") in subtracted(reader)


def _exposed() -> dict[str, pl.DataFrame]:
    tables = {name: frame.clear() for name, frame in tiny_tables().items()}
    count = {"schema_overrides": {"persons": pl.Int64}}
    tables["records_per_person"] = pl.DataFrame(
        {
            "records": ["1", "2", "3", "4", "5+", "2 or more", "all"],
            "persons": [15, 15, None, 0, 0, None, 25],
        },
        **count,  # type: ignore[arg-type]
    )
    tables["agency_overlap"] = pl.DataFrame(
        {
            "agencies": ["Force A", "one agency", "several agencies", "all"],
            "persons": [25, 25, 0, 25],
            "agency_count": [1, None, None, None],
        },
        schema_overrides={"agency_count": pl.Int64},
    )
    tables["linkage_overview"] = pl.DataFrame(
        {
            "measure": [
                "person records",
                "persons",
                "persons with several records",
                "persons known to several agencies",
            ],
            "value": [50, 25, None, 0],
        },
        schema_overrides={"value": pl.Int64},
    )
    tables["source_coverage"] = pl.DataFrame(
        {
            "source": ["a"],
            "rows_loaded": [60],
            "rows_quarantined": [0],
            "values_set_aside": [0],
            "person_records": [50],
            "events": [20],
        }
    )
    return tables


def tiny_tables() -> dict[str, pl.DataFrame]:
    """The published tables of the tiny workspace."""
    _, pairs = build_tables(tiny_workspace(), AuditSettings())
    return {name: public for name, (_, public) in pairs.items()}


@pytest.mark.parametrize(("threshold", "base"), [(10, 5), (3, 1), (5, 3)])
def test_no_figure_is_derived_from_a_suppressed_count(
    workspace: Path, threshold: int, base: int
) -> None:
    engine = Engine(workspace / "casebridge.duckdb")
    try:
        _, pairs = build_tables(
            engine,
            AuditSettings(disclosure=DisclosureSettings(threshold=threshold, rounding_base=base)),
        )
    finally:
        engine.close()
    demographics = pairs["demographics"][1]
    hidden = demographics.filter(
        pl.col("persons").is_null() | pl.col("denominator").is_null()
        | (pl.col("unknown").is_null() & pl.col("kind").is_in(["category", "other"]))
    )  # fmt: skip
    assert hidden.height > 20
    assert hidden["share_of_known"].null_count() == hidden.height
    # the range published for a suppressed count holds every value the publication allows
    reader = read_publication({n: public for n, (_, public) in pairs.items()}, threshold, base)
    suppressed = demographics.filter(pl.col("persons").is_null()).head(25)
    for row in suppressed.iter_rows(named=True):
        name = ("demographics", row["population"], row["role"], row["classification"],
                row["category"])  # fmt: skip
        low, high = range_of(reader, name)
        assert row["persons_low"] <= low
        assert row["persons_high"] is None or row["persons_high"] >= high


def _dots(frame: pl.DataFrame) -> pl.DataFrame:
    return (
        frame.filter(pl.col("kind").is_in(["category", "other"]))
        .group_by("population", "role", "classification")
        .agg(pl.col("share_of_known").sum(), pl.col("share_of_known").drop_nulls().alias("dots"))
    )


@pytest.mark.parametrize(("threshold", "base"), [(10, 5), (3, 10), (2, 1)])
def test_the_dots_of_one_classification_never_add_up_to_more_than_all_known(
    workspace: Path, threshold: int, base: int
) -> None:
    engine = Engine(workspace / "casebridge.duckdb")
    try:
        control = DisclosureSettings(threshold=threshold, rounding_base=base)
        _, pairs = build_tables(engine, AuditSettings(disclosure=control))
    finally:
        engine.close()
    sums = _dots(pairs["demographics"][1])["share_of_known"].to_list()
    assert sums and max(sums) <= 1 + 1e-9


def test_the_report_draws_no_dot_but_those_published(workspace: Path, tmp_path: Path) -> None:
    """Every dot of the report's share charts is a published share of known of its chart's
    classification, and one chart's dots add up to no more than 100 %."""
    engine = Engine(workspace / "casebridge.duckdb")
    try:
        audit(engine, AuditSettings(), tmp_path / "audit")
        html = render_report(engine, AuditSettings(), None, tmp_path).read_text(encoding="utf-8")
        published = engine.frame("SELECT * FROM audit_demographics_published")
    finally:
        engine.close()
    charts = dict(re.findall(r'<svg data-chart="(shares_[^"]+)"(.*?)</svg>', html, re.S))
    assert len(charts) >= 16
    drawn, shares = 0, 0
    for row in _dots(published).iter_rows(named=True):
        name = f"shares_{row['population']}_{row['role']}_{row['classification']}"
        chart = charts[name.replace(" ", "_").replace("-", "_")]
        dots = [float(v) for v in re.findall(r'data-share="([0-9.]+)"', chart)]
        allowed = {round(v, 6) for v in row["dots"]}
        assert all(round(dot, 6) in allowed for dot in dots)
        assert sum(dots) <= 1 + 1e-6
        drawn += len(dots)
        shares += len(row["dots"])
    # a chart draws at most its twelve largest rows: some dots, and none but published ones
    assert 10 <= drawn <= shares


def test_bounds_hold_every_true_share_and_completeness_is_the_truths(
    workspace: Path, tmp_path: Path
) -> None:
    """With persons resolved as in the truth, every published bound (subtotals and "any other
    nationality" included) holds the true share; and completeness per source row and per
    person is the truth's: exactly in the exact tables, but for rounding when published."""
    engine = Engine(workspace / "casebridge.duckdb")
    try:
        audit(engine, AuditSettings(), tmp_path / "audit")
        published = evaluate_audit(engine, workspace / "truth")
        exact = evaluate_audit(engine, workspace / "truth", published=False).completeness
    finally:
        engine.close()
    shares = published.shares
    assert set(shares["kind"]) == {"category", "other", "subtotal"}
    assert shares.filter(~pl.col("contained")).is_empty()
    assert exact["difference_points"].null_count() == 0
    assert exact["difference_points"].abs().max() < 1e-9  # type: ignore[operator]
    assert set(exact["counted"]) == {"rows", "persons"}
    compared = published.completeness.filter(pl.col("counted") == "rows").drop_nulls()
    # a few dozen rows per source: two counts rounded to 5 move a share by a few points
    assert compared.height >= 4 and compared["difference_points"].abs().max() < 5  # type: ignore[operator]
