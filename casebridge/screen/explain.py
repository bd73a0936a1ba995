"""Why a case or person is in the review queue: every rule that fired, the reason in words, the
legal or policy basis, and the evidence records with their sources.

Records are shown by source and local id with their role, never by name: what is printed can be
read over a shoulder or pasted into a ticket, and the id is enough to pull the record.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from casebridge.engine import Engine
from casebridge.errors import UsageError

ITEM = "SELECT subject, rules, priority FROM review_item WHERE item_id = ?"
REASONS = (
    "SELECT rule_id, title, weight, reason, basis, detail FROM review_reason "
    "WHERE item_id = ? ORDER BY weight DESC, rule_id"
)
EVIDENCE = """
SELECT v.rule_id, v.source, v.local_id,
    CASE WHEN v.evidence = 'event' THEN
        coalesce(e.kind, 'event') || coalesce(' on ' || CAST(e.event_date AS VARCHAR), '')
        || coalesce(', offence ' || e.offence_code, '')
        || coalesce(', outcome ' || e.outcome_code, '')
    ELSE coalesce(v.role, 'named') || coalesce(' in ' || e.source || ' ' || e.local_id, '') END
FROM review_evidence v LEFT JOIN event e ON e.event_id = v.event_id
WHERE v.item_id = ?
ORDER BY v.rule_id, v.event_id, v.evidence, v.source, v.local_id
"""


def explain_item(engine: Engine, item_id: str) -> Group:
    """Return a printable account of one review item (see :mod:`casebridge.screen.run`).

    Example:
        >>> Console().print(explain_item(engine, "event:force_a:NP/2019/000123"))  # doctest: +SKIP
    """
    if not engine.table_exists("review_item"):
        raise UsageError("no review queue yet: run 'casebridge screen' first")
    found = engine.query(ITEM, [item_id])
    if not found:
        raise UsageError(
            f"no review item {item_id!r}; item ids look like 'event:<source>:<event id>' or "
            "'person:<person id>' (see review_item.item_id)"
        )
    subject, rules, priority = found[0]
    heading = Text.assemble(
        (item_id, "bold"), f"  {subject}, priority {priority:g}, rules {', '.join(rules)}"
    )
    return Group(heading, *_reasons(engine, item_id), _evidence(engine, item_id))


def _reasons(engine: Engine, item_id: str) -> list[Text]:
    parts = []
    for rule_id, title, weight, reason, basis, detail in engine.query(REASONS, [item_id]):
        text = Text.assemble(
            ("\n" + f"{rule_id} (weight {weight:g}): {title}", "bold"), f"\n  why: {reason}"
        )
        if detail:
            text.append(f"\n  found: {detail}")
        text.append(f"\n  basis: {basis}", style="dim")
        parts.append(text)
    return parts


def _evidence(engine: Engine, item_id: str) -> Table:
    table = Table(title="evidence", title_justify="left")
    for column in ("rule", "source", "local id", "what"):
        table.add_column(column)
    for row in engine.query(EVIDENCE, [item_id]):
        table.add_row(*(str(value) for value in row))
    return table
