"""Screening accuracy against a truth folder: per rule, recall of the review targets and
precision of the rule's review items.

Only ``evaluate`` reads a truth folder; the pipeline never does. Targets and items meet as:

- ``event`` targets: by the event (``source:event_ref`` is the pipeline's event id);
- ``person`` targets: the true person's records, through ``person_link``, to pipeline persons;
  an item counts as right if any true person among its person's records is a target;
- ``event_person`` targets (a person in a case): by the event, and one of the rule's evidence
  records belonging to the true person.

Recall is also given for the targets that cite a record giving the birth year alone (the
truth's ``birth_year_only``): those an exact age would get wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from casebridge.engine import Engine
from casebridge.errors import UsageError
from casebridge.truth import read_truth, record_ids

# truth rule id -> shipped rule id; they agree, so that the numbering reads the same
TRUTH_RULES = {f"R{number}": f"R{number}" for number in range(1, 10)}


@dataclass(frozen=True)
class RuleScore:
    """One rule's recall and precision, with the counts behind them."""

    rule: str
    targets: int
    found: int
    items: int
    correct: int
    year_only_targets: int = 0  # targets citing a record that gives the birth year alone
    year_only_found: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.targets if self.targets else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.items if self.items else 1.0


def _read_truth(truth: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    targets, records = read_truth(truth, "review_target", "record_person")
    records = record_ids(records)
    if "birth_year_only" not in targets.columns:  # a truth folder written before the flag
        targets = targets.with_columns(birth_year_only=pl.lit(False))
    targets = targets.with_columns(
        rule=pl.col("rule").replace(TRUTH_RULES),
        event_id=pl.format("{}:{}", "source", "event_ref"),
    )
    return targets, records


def evaluate_screening(engine: Engine, truth: Path) -> list[RuleScore]:
    """Recall and precision of every rule that has targets or items, against ``truth``."""
    if not engine.table_exists("review_reason"):
        raise UsageError("no review queue yet: run 'casebridge screen' first")
    targets, records = _read_truth(truth)
    reasons = engine.frame("SELECT rule_id AS rule, subject, subject_id FROM review_reason")
    evidence = engine.frame(
        "SELECT e.rule_id AS rule, r.subject_id AS event_id, e.record_id FROM review_evidence e "
        "JOIN review_reason r ON r.item_id = e.item_id AND r.rule_id = e.rule_id "
        "WHERE e.record_id IS NOT NULL AND r.subject = 'event'"
    ).join(records, on="record_id")
    links = engine.frame("SELECT record_id, person_id FROM person_link").join(
        records, on="record_id"
    )
    rules = sorted(set(targets["rule"]) | set(reasons["rule"]), key=lambda r: (len(r), r))
    return [_score(rule, targets, reasons, evidence, links) for rule in rules]


def _targets_by_kind(wanted: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Targets as (events, true persons, event and true person pairs)."""
    by_event = wanted.filter(pl.col("subject") == "event").select("event_id").unique()
    by_person = (
        wanted.filter(pl.col("subject") == "person").select(true_person_id="person_id").unique()
    )
    by_pair = (
        wanted.filter(pl.col("subject") == "event_person")
        .select("event_id", true_person_id="person_id")
        .unique()
    )
    return by_event, by_person, by_pair


def _found(
    wanted: pl.DataFrame,
    events: pl.DataFrame,
    persons: pl.DataFrame,
    cited: pl.DataFrame,
    people: pl.DataFrame,
) -> int:
    """How many of ``wanted`` the rule's items found."""
    by_event, by_person, by_pair = _targets_by_kind(wanted)
    return (
        by_event.join(events, on="event_id", how="semi").height
        + by_person.join(people.join(persons, on="person_id", how="semi"), on="true_person_id",
                         how="semi").height
        + by_pair.join(cited, on=["event_id", "true_person_id"], how="semi").height
    )  # fmt: skip


def _score(
    rule: str,
    targets: pl.DataFrame,
    reasons: pl.DataFrame,
    evidence: pl.DataFrame,
    links: pl.DataFrame,
) -> RuleScore:
    wanted = targets.filter(pl.col("rule") == rule)
    fired = reasons.filter(pl.col("rule") == rule)
    events = fired.filter(pl.col("subject") == "event").select(event_id="subject_id").unique()
    persons = fired.filter(pl.col("subject") == "person").select(person_id="subject_id").unique()
    cited = evidence.filter(pl.col("rule") == rule).select("event_id", "true_person_id")
    people = links.select("person_id", "true_person_id")
    by_event, by_person, by_pair = _targets_by_kind(wanted)
    right_events = pl.concat(
        [by_event, cited.join(by_pair, on=["event_id", "true_person_id"]).select("event_id")]
    )
    right_persons = people.join(by_person, on="true_person_id", how="semi")
    correct = (
        events.join(right_events, on="event_id", how="semi").height
        + persons.join(right_persons, on="person_id", how="semi").height
    )
    year_only = wanted.filter(pl.col("birth_year_only"))
    return RuleScore(
        rule, wanted.height, _found(wanted, events, persons, cited, people),
        events.height + persons.height, correct, year_only.height,
        _found(year_only, events, persons, cited, people),
    )  # fmt: skip
