"""Each command's results as :class:`casebridge.output.Result` objects, for ``--format``.

The table format shows them as before (a grid, or one sentence for a one-row summary); the CSV
and JSON formats carry the same figures, unformatted, under the column keys named here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from casebridge.audit.evaluate import AuditEvaluation
from casebridge.audit.run import AuditSummary
from casebridge.ingest.run import SourceReport
from casebridge.link.constraints import Breaches
from casebridge.link.evaluate import Scores
from casebridge.link.run import LinkReport
from casebridge.networks.evaluate import NetworkScore
from casebridge.networks.run import NetworkSummary
from casebridge.output import Column, Result
from casebridge.screen.evaluate import RuleScore
from casebridge.screen.run import ScreenSummary

COUNT, SECONDS, SCORE, SHARE = ",", ".1f", ".4f", ".2%"


def ingest_result(reports: Sequence[SourceReport]) -> Result:
    """One row per source: values set aside, values noted (kept as they are, with a finding),
    notes on its files; a failed source with its status ``failed`` and the reason why."""
    columns: list[Column] = [
        Column("source"), Column("status"), Column("rows_read", "read", COUNT),
        Column("rows_loaded", "loaded", COUNT), Column("rows_quarantined", "quarantined", COUNT),
        Column("values_set_aside", "set aside", COUNT), Column("values_noted", "noted", COUNT),
        Column("seconds", "seconds", SECONDS),
    ]  # fmt: skip
    rows: list[list[object]] = [
        [r.source, r.status, r.rows_read, r.rows_loaded, r.rows_quarantined,
         r.values_set_aside, r.values_noted, r.seconds]
        for r in reports
    ]  # fmt: skip
    if any(r.notes for r in reports):  # a header-only file, say
        columns.append(Column("notes"))
        for row, report in zip(rows, reports, strict=True):
            row.append("; ".join(report.notes) or None)
    if any(r.reason for r in reports):  # the reason column only when a source failed
        columns.append(Column("reason"))
        for row, report in zip(rows, reports, strict=True):
            row.append(report.reason or None)
    return Result("ingest", "ingest", columns, rows)


def link_result(report: LinkReport) -> Result:
    """The link stage's figures in one row, and as a sentence."""
    ties = report.ties
    sentence = (
        f"{report.records:,} records → {report.persons:,} persons "
        f"({report.multi_record_persons:,} with several records); {report.scored_pairs:,} pairs "
        "kept for review and explanation; "
        + ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
    )
    if ties is not None:
        sentence += (
            f"\nrecords tied to the same third person: weight {ties.agree_weight:+.1f} "
            f"(m {ties.m:.3f}, u {ties.u:.1e})"
        )
    if report.left_out:
        sentence += "\nrules left out (too few matches for their pairs): " + ", ".join(
            f"{rule.name} ({rule.pairs:,} pairs, {rule.expected_matches or 0:.1f} matches "
            "estimated among them)"
            for rule in report.left_out
        )
    stages = list(report.seconds)
    columns = [Column("records"), Column("persons"), Column("multi_record_persons"),
               Column("scored_pairs"), Column("tie_weight")]  # fmt: skip
    columns += [Column(f"{stage}_seconds") for stage in stages]
    row = [report.records, report.persons, report.multi_record_persons, report.scored_pairs,
           None if ties is None else ties.agree_weight]  # fmt: skip
    row += [report.seconds[stage] for stage in stages]
    return Result("link", "link", columns, [row], sentence)


def networks_result(summary: NetworkSummary) -> Result:
    """The networks stage's figures in one row, and as a sentence."""
    s = summary
    sentence = (
        f"{s.networks:,} group-based networks ({s.members:,} members, {s.edges:,} ties); "
        f"{s.set_aside:,} set aside whose suspects may be one man recorded twice; "
        f"{s.seconds:.1f} s"
    )
    columns = [Column(key) for key in ("networks", "members", "edges", "set_aside", "seconds")]
    row = [s.networks, s.members, s.edges, s.set_aside, s.seconds]
    return Result("networks", "networks", columns, [row], sentence)


def screen_result(summary: ScreenSummary) -> Result:
    """Review items in all (rule ``all``) and per rule, and as a sentence."""
    fired = ", ".join(f"{rule} {count:,}" for rule, count in summary.per_rule.items())
    sentence = f"{summary.items:,} review items ({fired}); {summary.seconds:.1f} s"
    rows = [("all", summary.items), *summary.per_rule.items()]
    return Result("screen", "screen", (Column("rule"), Column("review_items")), rows, sentence)


def audit_result(summary: AuditSummary) -> Result:
    """The audit's headline figures in one row, and as a sentence."""
    recorded = summary.suspect_ethnicity_recorded
    sentence = (
        f"{len(summary.tables)} audit tables (published under disclosure control, "
        f"{summary.suppressed_cells:,} cells suppressed) in {summary.out}; suspect ethnicity "
        f"recorded for {'-' if recorded is None else f'{recorded:.1%}'}; "
        f"{summary.seconds:.1f} s"
    )
    keys = ("tables", "suppressed_cells", "out", "suspect_ethnicity_recorded",
            "suspect_nationality_recorded", "seconds")  # fmt: skip
    row = (len(summary.tables), summary.suppressed_cells, summary.out, recorded,
           summary.suspect_nationality_recorded, summary.seconds)  # fmt: skip
    return Result("audit", "audit", [Column(key) for key in keys], [row], sentence)


def report_result(path: Path) -> Result:
    """Where the report was written."""
    return Result("report", "report", (Column("path"),), [(path,)], f"report: {path}")


def run_result(
    reports: Sequence[SourceReport],
    linked: LinkReport,
    networks: NetworkSummary,
    screened: ScreenSummary,
    audited: AuditSummary,
    report: Path,
    seconds: dict[str, float],
) -> Result:
    """The closing summary of ``casebridge run``: one figure per row."""
    rows: list[tuple[str, object]] = [
        ("rows read", sum(r.rows_read for r in reports)),
        ("rows quarantined", sum(r.rows_quarantined for r in reports)),
        ("person records", linked.records),
        ("persons", linked.persons),
        ("group-based networks", networks.networks),
        ("review items", screened.items),
        ("audit tables", len(audited.tables)),
        ("audit folder", audited.out),
        ("report", report),
    ]
    rows += [(f"seconds: {stage}", round(taken, 1)) for stage, taken in seconds.items()]
    columns = (Column("measure"), Column("value", form=COUNT))
    return Result("run", "casebridge run", columns, rows, show_header=False)


def linkage_result(scores: dict[str, Scores]) -> Result:
    """Precision, recall and F1 overall and per name-origin group."""
    columns = (
        Column("scope"), Column("precision", form=SCORE), Column("recall", form=SCORE),
        Column("f1", "F1", SCORE), Column("true_pairs", "true pairs", COUNT),
        Column("predicted_pairs", "predicted pairs", COUNT),
    )  # fmt: skip
    rows = [(scope, s.precision, s.recall, s.f1, s.true_pairs, s.predicted_pairs)
            for scope, s in scores.items()]  # fmt: skip
    return Result("linkage", "linkage against the truth", columns, rows)


def sample_result(labelled: int, not_found: int) -> Result:
    """How many records of a labelled sample were scored, and how many the workspace's persons
    do not hold (left out of every score)."""
    found = labelled - not_found
    sentence = (
        f"labelled sample: {labelled:,} records, {found:,} scored, {not_found:,} not among the "
        "workspace's linked records (left out)"
    )
    if not_found:
        sentence += ": check their source and local_id, or link again after ingesting"
    columns = (Column("labelled"), Column("found"), Column("not_found"))
    return Result("sample", "labelled sample", columns, [(labelled, found, not_found)], sentence)


def blocking_result(recall: float, true_pairs: int) -> Result:
    """How many true pairs the blocking rules compared."""
    sentence = f"blocking recall: {recall:.4f} of {true_pairs:,} true pairs compared"
    columns = (Column("recall"), Column("true_pairs"))
    return Result("blocking", "blocking", columns, [(recall, true_pairs)], sentence)


def constraints_result(linked: Breaches, true: Breaches) -> Result:
    """Persons that break the constraints, linked and in the truth."""
    sentence = (
        "persons holding two suspects (or a suspect and a victim) of one event: "
        f"{linked.one_event:,} linked, {true.one_event:,} true; holding conflicting birth "
        f"dates or ages without a judgement: {linked.birth_conflict:,} linked, "
        f"{true.birth_conflict:,} true"
    )
    columns = (Column("persons"), Column("one_event"), Column("birth_conflict"))
    rows = [("linked", linked.one_event, linked.birth_conflict),
            ("true", true.one_event, true.birth_conflict)]  # fmt: skip
    return Result("constraints", "constraints", columns, rows, sentence)


def network_score_result(n: NetworkScore) -> Result:
    """Planted networks recovered, and the adjusted Rand index."""
    sentence = (
        f"networks: {n.recovered} of {n.planted} planted recovered with at least 90 % of "
        f"their members ({n.recovered_share:.1%}); adjusted Rand index {n.ari:.4f}; "
        f"{n.found} found, {n.invented} matching no planted network"
    )
    keys = ("planted", "recovered", "recovered_share", "ari", "found", "invented")
    row = (n.planted, n.recovered, n.recovered_share, n.ari, n.found, n.invented)
    return Result("networks", "networks", [Column(key) for key in keys], [row], sentence)


def screening_result(rule_scores: Sequence[RuleScore]) -> Result:
    """Each rule's recall and precision against the planted review targets."""
    columns = (
        Column("rule"), Column("targets", form=COUNT), Column("found", form=COUNT),
        Column("recall", form=".3f"), Column("items", form=COUNT),
        Column("correct", form=COUNT), Column("precision", form=".3f"),
        Column("year_only_targets", "targets (birth year only)", COUNT),
        Column("year_only_found", "found (birth year only)", COUNT),
    )  # fmt: skip
    rows = [(r.rule, r.targets, r.found, r.recall, r.items, r.correct, r.precision,
             r.year_only_targets, r.year_only_found) for r in rule_scores]  # fmt: skip
    return Result("screening", "screening against the planted review targets", columns, rows)


def audit_score_results(score: AuditEvaluation) -> list[Result]:
    """The audit's completeness against the truth, and how many share bounds hold it."""
    columns = (
        Column("population"), Column("role"), Column("counted"), Column("measure"),
        Column("stated", form=SHARE), Column("truth", form=SHARE),
        Column("difference_points", "difference (points)", "+.2f"),
    )  # fmt: skip
    rows = [
        (r["population"], r["role"], r["counted"], r["measure"], r["stated"], r["truth"],
         r["difference_points"])
        for r in score.completeness.iter_rows(named=True)
    ]  # fmt: skip
    completeness = Result(
        "audit_completeness", "audit completeness against the truth", columns, rows
    )
    kinds = score.shares.select("population", "role", "classification").unique().sort("*")
    bounds = [
        (population, role, classification, *score.contained(population, role, classification))
        for population, role, classification in kinds.iter_rows()
    ]
    sentence = (
        "share bounds (every row, subtotals included) containing the true share: "
        + "; ".join(f"{p} {r} {c}: {inside}/{total}" for p, r, c, inside, total in bounds)
    )
    keys = ("population", "role", "classification", "containing", "shares")
    share_bounds = Result(
        "audit_share_bounds", "share bounds", [Column(k) for k in keys], bounds, sentence
    )
    return [completeness, share_bounds]


def review_result(
    pairs: Sequence[tuple[str, str, float]],
    explanations: Sequence[Sequence[tuple[str, str, float]]],
) -> Result:
    """Uncertain pairs, one row per comparison that weighed on each."""
    rows = [
        (left, right, probability, name, level, weight)
        for (left, right, probability), weights in zip(pairs, explanations, strict=True)
        for name, level, weight in weights
    ]
    lines = []
    for (left, right, probability), weights in zip(pairs, explanations, strict=True):
        lines.append(f"{left}  ~  {right}  probability {probability:.3f}")
        lines += [f"    {name:14} {weight:+6.2f}  {level}" for name, level, weight in weights]
    keys = ("record_l", "record_r", "probability", "comparison", "level", "match_weight")
    sentence = "\n".join(lines) or "no unjudged pairs in the review band"
    return Result("review", "review", [Column(k) for k in keys], rows, sentence)


def explain_result(title: str, rows: Sequence[tuple[str, str, float]]) -> Result:
    """The per-comparison match weights that decided one pair."""
    columns = (Column("comparison"), Column("level"),
               Column("match_weight", "match weight", "+.2f"))  # fmt: skip
    return Result("explain", title, columns, rows)


def unknowns_result(found: pl.DataFrame) -> Result:
    """The values no code list knew, one row per field, list and value, with their counts."""
    columns = [Column(name, form="," if name == "count" else "") for name in found.columns]
    return Result("unknowns", "values the code lists do not know", columns, found.rows())
