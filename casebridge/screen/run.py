"""The screen stage: run every enabled rule and write the review queue.

Each rule is one set-based statement whose rows (subject, event, record, role, detail) land in
``screen_hit``; three statements then write, in one transaction:

- ``review_item``: one row per case (event) or person to review, with every rule that fired,
  the reason in words and the priority: the sum of the fired rules' weights;
- ``review_reason``: one row per item and rule, with the rule's title, reason, basis, weight
  and the facts that made it fire (``detail``);
- ``review_evidence``: the records cited, each with its source and local id: the events, and
  the person records with their role in the event.

An item's id is its subject and the subject's id (``event:force_a:NP/2019/000123``,
``person:PN0001234``), so a rerun over the same tables gives the same items.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass

import duckdb
import polars as pl

from casebridge.engine import Engine
from casebridge.screen.prepare import prepare_screening
from casebridge.screen.rules import Rule, query_failure
from casebridge.standard.tables import record_run
from casebridge.workspace import VocabularySettings

logger = logging.getLogger(__name__)

HITS = """
CREATE OR REPLACE TEMP TABLE screen_hit (
    rule_id VARCHAR, subject VARCHAR, subject_id VARCHAR, event_id VARCHAR, record_id VARCHAR,
    role VARCHAR, detail VARCHAR, weight DOUBLE)
"""

REASONS = """
CREATE OR REPLACE TABLE review_reason AS
SELECT h.subject || ':' || h.subject_id AS item_id, h.rule_id, h.subject, h.subject_id,
    r.title, coalesce(max(h.weight), r.weight) AS weight, r.reason, r.basis,
    nullif(array_to_string(list_sort(list(DISTINCT h.detail)), '; '), '') AS detail,
    count(DISTINCT h.event_id) AS events, count(DISTINCT h.record_id) AS records
FROM screen_hit h JOIN screen_rule r ON r.rule_id = h.rule_id
GROUP BY h.subject, h.subject_id, h.rule_id, r.title, r.weight, r.reason, r.basis
"""

ITEMS = """
CREATE OR REPLACE TABLE review_item AS
SELECT i.item_id, i.subject, i.event_id, i.person_id, e.source, e.local_id, e.kind,
    e.event_date, i.rules, i.rule_count, i.priority, i.reason
FROM (
    SELECT item_id, min(subject) AS subject,
        min(CASE WHEN subject = 'event' THEN subject_id END) AS event_id,
        min(CASE WHEN subject = 'person' THEN subject_id END) AS person_id,
        list_sort(list(rule_id)) AS rules, count(*) AS rule_count, sum(weight) AS priority,
        array_to_string(list_sort(list(rule_id || ': ' || reason
            || coalesce(' [' || detail || ']', ''))), ' | ') AS reason
    FROM review_reason
    GROUP BY item_id
) i
LEFT JOIN event e ON e.event_id = i.event_id
"""

EVIDENCE = """
CREATE OR REPLACE TABLE review_evidence AS
SELECT DISTINCT h.subject || ':' || h.subject_id AS item_id, h.rule_id, 'event' AS evidence,
    e.source, e.local_id, h.event_id, CAST(NULL AS VARCHAR) AS record_id,
    CAST(NULL AS VARCHAR) AS role
FROM screen_hit h JOIN event e ON e.event_id = h.event_id
UNION
SELECT DISTINCT h.subject || ':' || h.subject_id, h.rule_id, 'person_record', r.source,
    r.local_id, h.event_id, h.record_id, h.role
FROM screen_hit h JOIN person_record r ON r.record_id = h.record_id
"""


@dataclass(frozen=True)
class ScreenSummary:
    """What a screening run found: items in the queue, subjects per rule, time taken."""

    items: int
    per_rule: dict[str, int]
    evidence: int
    seconds: float


def screen(
    engine: Engine, rules: list[Rule], vocabulary: VocabularySettings | None = None
) -> ScreenSummary:
    """Run the enabled ``rules`` and (re)write review_item, review_reason and review_evidence.

    ``vocabulary`` names the event kinds that are missing episodes, CSE assessments and duty
    reports (the workspace's ``[vocabulary]``; the defaults when not given).

    Example:
        >>> summary = screen(engine, load_rules(workspace.root / "rules"))  # doctest: +SKIP
        >>> summary.per_rule["R2"]  # doctest: +SKIP
        41
    """
    started, clock = dt.datetime.now(dt.UTC).replace(tzinfo=None), time.perf_counter()
    enabled = [rule for rule in rules if rule.enabled]
    with engine.transaction():
        prepare_screening(engine, vocabulary)
        engine.execute(HITS)
        for rule in enabled:
            run_rule(engine, rule)
        _load_rule_table(engine, enabled)
        for statement in (REASONS, ITEMS, EVIDENCE):
            engine.execute(statement)
        summary = _summarise(engine, enabled, time.perf_counter() - clock)
        _record_run(engine, started, enabled, summary, vocabulary)
    logger.info("screened with %d rules: %d review items", len(enabled), summary.items)
    return summary


def run_rule(engine: Engine, rule: Rule) -> None:
    """Add one rule's rows to ``screen_hit``; a failing query is a RuleError naming its file.
    A rule that ranks its items returns a ``weight`` column too (the item's weight for the
    rule is the largest of its rows'); the others weigh every item at the rule's weight."""
    query, values = rule.statement()
    weight = "CAST(weight AS DOUBLE)" if rule.ranks else "CAST(NULL AS DOUBLE)"
    try:
        engine.execute(
            "INSERT INTO screen_hit SELECT ?, ?, CAST(subject_id AS VARCHAR), "
            "CAST(event_id AS VARCHAR), CAST(record_id AS VARCHAR), CAST(role AS VARCHAR), "
            f"CAST(detail AS VARCHAR), {weight} FROM ({query}) hit WHERE subject_id IS NOT NULL",
            [rule.id, rule.subject, *values],
        )
    except duckdb.Error as exc:
        raise query_failure(rule, exc) from None  # DuckDB's text may quote a value


def _load_rule_table(engine: Engine, rules: list[Rule]) -> None:
    frame = pl.DataFrame(
        [(r.id, r.title, r.weight, r.reason, r.basis) for r in rules],
        schema={"rule_id": pl.String, "title": pl.String, "weight": pl.Float64,
                "reason": pl.String, "basis": pl.String},
        orient="row",
    )  # fmt: skip
    engine.create_table_from_arrow("screen_rule", frame, temporary=True)


def _summarise(engine: Engine, rules: list[Rule], seconds: float) -> ScreenSummary:
    found = dict(
        engine.query("SELECT rule_id, count(DISTINCT item_id) FROM review_reason GROUP BY rule_id")
    )
    return ScreenSummary(
        items=int(engine.scalar("SELECT count(*) FROM review_item")),
        per_rule={rule.id: int(found.get(rule.id, 0)) for rule in rules},
        evidence=int(engine.scalar("SELECT count(*) FROM review_evidence")),
        seconds=seconds,
    )


def _record_run(
    engine: Engine,
    started: dt.datetime,
    rules: list[Rule],
    summary: ScreenSummary,
    vocabulary: VocabularySettings | None,
) -> None:
    parameters = {
        **{rule.id: {"weight": rule.weight, **rule.parameters} for rule in rules},
        "[vocabulary]": (vocabulary or VocabularySettings()).model_dump(mode="json"),
    }
    record_run(
        engine, "screen", started, json.dumps(parameters),
        json.dumps({rule.id: rule.origin for rule in rules}),
        int(engine.scalar("SELECT count(*) FROM screen_hit")), summary.items,
    )  # fmt: skip
