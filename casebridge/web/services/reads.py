"""What the casework API reads from a snapshot, as SQL with named parameters.

Every function takes a :class:`~casebridge.web.snapshot.SnapshotReader` and the parameters the
scope expressions need (``$scopes``, ``$protected``); none checks a role or writes the trail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from casebridge.web.services import scope
from casebridge.web.snapshot import SnapshotReader

Row = dict[str, Any]


def exists(reader: SnapshotReader, sql: str, params: dict[str, object]) -> bool:
    """Whether ``SELECT <sql>`` answers true."""
    rows = reader.dicts(f"SELECT ({sql}) AS answer", params)
    return bool(rows and rows[0]["answer"])


def one(reader: SnapshotReader, sql: str, params: dict[str, object]) -> Row | None:
    """The first row of a query, or None."""
    rows = reader.dicts(sql, params)
    return rows[0] if rows else None


# ---- review items ------------------------------------------------------------------------

ITEM_COLUMNS = """i.item_id, i.subject, i.event_id, i.person_id, i.source, i.kind, i.event_date,
    i.rules, i.rule_count, i.priority, i.reason,
    coalesce((SELECT list_sort(list(DISTINCT s.agency)) FROM review_evidence v
        JOIN source s ON s.source = v.source WHERE v.item_id = i.item_id), []) AS agencies"""


@dataclass(frozen=True)
class QueueFilter:
    """What the queue is narrowed to; None leaves a filter out."""

    rule: str | None = None
    priority_min: float | None = None
    agency: str | None = None
    status: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def filtered_queue(
    params: dict[str, object],
    casework: tuple[dict[str, str], dict[str, int | None]],
    chosen: QueueFilter,
) -> tuple[str, dict[str, object]]:
    """(SQL selecting the visible items ``chosen`` narrows to, each with its status and
    assignee, and its parameters). ``casework`` is (status by item, assignee by item) from the
    operational store. The queue pages it; its facets count it."""
    statuses, assignees = casework
    conditions = [f"i.item_id IN ({scope.ITEMS_SEEN})"]
    values: dict[str, object] = {
        **params,
        "status_items": list(statuses),
        "status_values": list(statuses.values()),
        "assigned_items": list(assignees),
        "assignee_values": [str(v) if v is not None else None for v in assignees.values()],
    }
    for condition, name, value in _queue_conditions(chosen):
        conditions.append(condition)
        if name:
            values[name] = value
    filtered = f"""
        WITH st AS (SELECT unnest(CAST($status_items AS VARCHAR[])) AS item_id,
                           unnest(CAST($status_values AS VARCHAR[])) AS status),
             asg AS (SELECT unnest(CAST($assigned_items AS VARCHAR[])) AS item_id,
                            unnest(CAST($assignee_values AS VARCHAR[])) AS assignee),
             q AS (SELECT {ITEM_COLUMNS}, coalesce(st.status, 'new') AS status,
                       CAST(asg.assignee AS BIGINT) AS assignee_id
                   FROM review_item i
                   LEFT JOIN st ON st.item_id = i.item_id
                   LEFT JOIN asg ON asg.item_id = i.item_id)
        SELECT * FROM q i WHERE {" AND ".join(conditions)}"""
    return filtered, values


def queue(
    reader: SnapshotReader,
    params: dict[str, object],
    casework: tuple[dict[str, str], dict[str, int | None]],
    chosen: QueueFilter,
    page: int,
    page_size: int,
) -> tuple[int, list[Row]]:
    """(total, one page of visible items with their status and assignee), highest priority
    first. ``casework`` is (status by item, assignee by item) from the operational store."""
    filtered, values = filtered_queue(params, casework, chosen)
    # the total comes with the page (one pass); a page past the end counts on its own
    rows = reader.dicts(
        f"""SELECT *, count(*) OVER () AS total FROM ({filtered})
        ORDER BY priority DESC, event_date DESC NULLS LAST, item_id
        LIMIT $limit OFFSET $offset""",
        {**values, "limit": page_size, "offset": (page - 1) * page_size},
    )
    if rows:
        return int(rows[0]["total"]), rows
    counted = one(reader, f"SELECT count(*) AS total FROM ({filtered})", values)
    return (int(counted["total"]) if counted else 0), rows


def _queue_conditions(chosen: QueueFilter) -> list[tuple[str, str, object]]:
    """(SQL condition, parameter name, value) for each filter given."""
    conditions: list[tuple[str, str, object]] = []
    if chosen.rule is not None:
        conditions.append(("list_contains(i.rules, $rule)", "rule", chosen.rule))
    if chosen.priority_min is not None:
        conditions.append(("i.priority >= $priority_min", "priority_min", chosen.priority_min))
    if chosen.agency is not None:
        conditions.append(("list_contains(i.agencies, $agency)", "agency", chosen.agency))
    if chosen.status is not None:
        conditions.append(("i.status = $status", "status", chosen.status))
    if chosen.assignee_id is not None:
        conditions.append(("i.assignee_id = $assignee_id", "assignee_id", chosen.assignee_id))
    if chosen.unassigned:
        conditions.append(("i.assignee_id IS NULL", "", None))
    if chosen.date_from is not None:
        conditions.append(("i.event_date >= $date_from", "date_from", chosen.date_from))
    if chosen.date_to is not None:
        conditions.append(("i.event_date <= $date_to", "date_to", chosen.date_to))
    return conditions


def item(reader: SnapshotReader, params: dict[str, object], item_id: str) -> Row | None:
    """A visible review item, or None."""
    return one(
        reader,
        f"SELECT {ITEM_COLUMNS} FROM review_item i "
        f"WHERE i.item_id = $id AND {scope.item_visible('$id')}",
        {**params, "id": item_id},
    )


def item_reasons(reader: SnapshotReader, item_id: str) -> list[Row]:
    """Every rule that fired for an item, heaviest first (as ``casebridge screen explain``)."""
    return reader.dicts(
        "SELECT rule_id, title, weight, reason, basis, detail FROM review_reason "
        "WHERE item_id = $id ORDER BY weight DESC, rule_id",
        {"id": item_id},
    )


def item_evidence(reader: SnapshotReader, params: dict[str, object], item_id: str) -> list[Row]:
    """The records an item cites, in ``screen explain``'s words, each marked visible or not."""
    event_source = "coalesce(e.source, v.source)"
    return reader.dicts(
        f"""SELECT v.rule_id, v.evidence, v.source, v.local_id, v.event_id, v.record_id, v.role,
            CASE WHEN v.evidence = 'event' THEN
                coalesce(e.kind, 'event') || coalesce(' on ' || CAST(e.event_date AS VARCHAR), '')
                || coalesce(', offence ' || e.offence_code, '')
                || coalesce(', outcome ' || e.outcome_code, '')
            ELSE coalesce(v.role, 'named') || coalesce(' in ' || e.source || ' ' || e.local_id, '')
            END AS what,
            CASE WHEN v.record_id IS NOT NULL THEN {scope.record_visible("v.record_id", "v.source")}
                ELSE {scope.event_visible("v.event_id", event_source)} END AS visible
        FROM review_evidence v LEFT JOIN event e ON e.event_id = v.event_id
        WHERE v.item_id = $id
        ORDER BY v.rule_id, v.event_id, v.evidence, v.source, v.local_id""",
        {**params, "id": item_id},
    )


def items_of_person(reader: SnapshotReader, person_id: str) -> list[Row]:
    """Review items about a person or about an event one of their records is involved in."""
    return reader.dicts(
        """SELECT item_id, subject, rules, priority FROM review_item
        WHERE person_id = $id OR event_id IN (
            SELECT i.event_id FROM involvement i JOIN person_link l ON l.record_id = i.record_id
            WHERE l.person_id = $id)
        ORDER BY priority DESC, item_id""",
        {"id": person_id},
    )


def concerned(reader: SnapshotReader, items: list[str], kind: str, subject_id: str) -> bool:
    """Whether a person, record, event, network or item is among what ``items`` concern."""
    values: dict[str, object] = {"items": items, "id": subject_id}
    persons = scope.CONCERNED_PERSON
    checks = {
        "person": f"$id IN ({persons})",
        "record": f"(SELECT person_id FROM person_link WHERE record_id = $id) IN ({persons})",
        "event": f"""$id IN (SELECT event_id FROM review_item
                WHERE list_contains(CAST($items AS VARCHAR[]), item_id)
                UNION SELECT event_id FROM review_evidence
                WHERE list_contains(CAST($items AS VARCHAR[]), item_id))
            OR EXISTS (SELECT 1 FROM involvement ci JOIN person_link cl
                ON cl.record_id = ci.record_id WHERE ci.event_id = $id
                AND cl.person_id IN ({persons}))""",
        "network": f"""EXISTS (SELECT 1 FROM network_member cm WHERE cm.network_id = $id
                AND cm.person_id IN ({persons}))""",
    }
    if not items:
        return False
    return exists(reader, checks[kind], values)


# ---- persons and records -----------------------------------------------------------------


def record_columns(record: str) -> str:
    """A record's columns, with its agency, person, link probability, first source file,
    youngest age at an event and whether it is protected. ``record`` is the record's id as SQL:
    a parameter (``$id``), so that every lookup in it is an index probe of the snapshot, not a
    join of whole tables (what a correlated column would make of it)."""
    return f"""r.*, s.agency, l.person_id, l.probability AS link_probability,
    (SELECT arg_min(o.file_name, o.row_number) FROM person_observation o
        WHERE o.record_id = {record}) AS file_name,
    (SELECT min(n.age_at_event) FROM involvement n WHERE n.record_id = {record}) AS youngest,
    {scope.record_protected(record)} AS protected"""


def person(reader: SnapshotReader, params: dict[str, object], person_id: str) -> Row | None:
    """A visible person's best values, or None."""
    return one(
        reader,
        f"""SELECT p.*, {scope.person_protected("$id")} AS protected FROM person p
        WHERE p.person_id = $id AND {scope.person_visible("$id")}""",
        {**params, "id": person_id},
    )


def records_of_person(
    reader: SnapshotReader, params: dict[str, object], person_id: str
) -> list[Row]:
    """Every record of a person, with its source's agency and its first source file (each
    looked up by its id: a person has a handful)."""
    ids = reader.dicts("SELECT record_id FROM person_link WHERE person_id = $id", {"id": person_id})
    rows = [_record(reader, params, str(row["record_id"]), visible=False) for row in ids]
    found = [row for row in rows if row is not None]
    return sorted(found, key=lambda row: (str(row["source"]), str(row["local_id"])))


def record(reader: SnapshotReader, params: dict[str, object], record_id: str) -> Row | None:
    """A visible record, or None."""
    return _record(reader, params, record_id, visible=True)


def _record(
    reader: SnapshotReader, params: dict[str, object], record_id: str, visible: bool
) -> Row | None:
    """A record (only if the scopes show it, when ``visible``), or None."""
    shown = scope.record_visible("$id", "r.source") if visible else "true"
    return one(
        reader,
        f"""SELECT {record_columns("$id")} FROM person_record r
        LEFT JOIN person_link l ON l.record_id = r.record_id
        LEFT JOIN source s ON s.source = r.source
        WHERE r.record_id = $id AND {shown}""",
        {**params, "id": record_id},
    )


def record_rows(reader: SnapshotReader, record_id: str) -> list[Row]:
    """Every source row behind a record, in file order."""
    return reader.dicts(
        "SELECT * FROM person_observation WHERE record_id = $id ORDER BY file_name, row_number",
        {"id": record_id},
    )


def record_identifiers(reader: SnapshotReader, record_id: str) -> list[Row]:
    """The identifiers a record carries."""
    if not reader.has("identifier"):
        return []
    return reader.dicts(
        "SELECT DISTINCT scheme, value, value_raw FROM identifier WHERE record_id = $id "
        "ORDER BY scheme, value",
        {"id": record_id},
    )


def events_of_person(reader: SnapshotReader, person_id: str) -> list[Row]:
    """A person's events, oldest first, with their role and age in each."""
    return reader.dicts(
        """SELECT e.event_id, e.source, s.agency, e.kind, e.event_date, e.offence_code,
            e.offence_description, e.outcome_code, e.outcome_label, i.record_id, i.role,
            i.age_at_event
        FROM person_link l
        JOIN involvement i ON i.record_id = l.record_id
        JOIN event e ON e.event_id = i.event_id
        LEFT JOIN source s ON s.source = e.source
        WHERE l.person_id = $id
        ORDER BY e.event_date NULLS LAST, e.event_id, i.record_id""",
        {"id": person_id},
    )


def networks_of_person(reader: SnapshotReader, person_id: str) -> list[Row]:
    """The networks a person is a member of."""
    if not reader.has("network_member"):
        return []
    return reader.dicts(
        "SELECT network_id, role, events, centrality FROM network_member "
        "WHERE person_id = $id ORDER BY network_id",
        {"id": person_id},
    )


# ---- events ------------------------------------------------------------------------------


def event(reader: SnapshotReader, params: dict[str, object], event_id: str) -> Row | None:
    """A visible event with its source's agency, or None."""
    return one(
        reader,
        f"""SELECT e.*, s.agency,
            EXISTS (SELECT 1 FROM involvement x JOIN involvement prot_i
                ON prot_i.record_id = x.record_id WHERE x.event_id = $id
                AND list_contains($protected, prot_i.role)) AS protected
        FROM event e LEFT JOIN source s ON s.source = e.source
        WHERE e.event_id = $id AND {scope.event_visible("$id", "e.source")}""",
        {**params, "id": event_id},
    )


def involvements(reader: SnapshotReader, params: dict[str, object], event_id: str) -> list[Row]:
    """Who was involved in an event, each marked visible (to the scopes) and protected."""
    return reader.dicts(
        f"""SELECT i.record_id, l.person_id, i.role, i.role_raw, i.age_at_event,
            r.forename, r.surname,
            {scope.record_visible("i.record_id", "i.source")} AS visible,
            {scope.record_protected("i.record_id")} AS protected
        FROM involvement i
        LEFT JOIN person_link l ON l.record_id = i.record_id
        LEFT JOIN person_record r ON r.record_id = i.record_id
        WHERE i.event_id = $id ORDER BY i.role, i.record_id""",
        {**params, "id": event_id},
    )


# ---- pairs -------------------------------------------------------------------------------


def scored_pair(reader: SnapshotReader, first: str, second: str) -> Row | None:
    """The match_pair row of two records (in either order), or None."""
    if not reader.has("match_pair"):
        return None
    left, right = sorted((first, second))
    # index probes: the linker writes a pair with record_l < record_r (Splink's order), but
    # the other order is looked for too before saying the pair was not scored
    query = "SELECT * FROM match_pair WHERE record_l = $l AND record_r = $r"
    found = one(reader, query, {"l": left, "r": right})
    return found if found is not None else one(reader, query, {"l": right, "r": left})


# ---- networks ----------------------------------------------------------------------------

NETWORK_COLUMNS = """n.network_id, n.suspects, n.victims, n.events, n.source_keys AS sources,
    n.forces, n.first_date, n.last_date, n.central_suspects, n.charged_events,
    n.cse_flagged_events, n.edges"""


def network(reader: SnapshotReader, params: dict[str, object], network_id: str) -> Row | None:
    """A visible network, or None."""
    return one(
        reader,
        f"SELECT {NETWORK_COLUMNS} FROM network n "
        f"WHERE n.network_id = $id AND {scope.network_visible('$id')}",
        {**params, "id": network_id},
    )


def networks(
    reader: SnapshotReader, params: dict[str, object], page: int, page_size: int
) -> tuple[int, list[Row]]:
    """(total, one page of visible networks), most suspects first."""
    rows = reader.dicts(
        f"""SELECT {NETWORK_COLUMNS}, count(*) OVER () AS total FROM network n
        WHERE {scope.network_visible("n.network_id")}
        ORDER BY n.suspects DESC, n.events DESC, n.network_id
        LIMIT $limit OFFSET $offset""",
        {**params, "limit": page_size, "offset": (page - 1) * page_size},
    )
    if rows:
        return int(rows[0]["total"]), rows
    counted = one(
        reader,
        f"SELECT count(*) AS total FROM network n WHERE {scope.network_visible('n.network_id')}",
        params,
    )
    return (int(counted["total"]) if counted else 0), rows


def network_members(
    reader: SnapshotReader, params: dict[str, object], network_id: str
) -> list[Row]:
    """A network's members, most central first, each marked visible to the scopes."""
    return reader.dicts(
        f"""SELECT m.person_id, m.role, m.events, m.centrality,
            {scope.person_visible("m.person_id")} AS visible
        FROM network_member m WHERE m.network_id = $id
        ORDER BY m.centrality DESC NULLS LAST, m.person_id""",
        {"scopes": params["scopes"], "id": network_id},
    )


# the tables things of each kind live in, their id columns, and whether the scopes show one
VISIBLE_KINDS: dict[str, tuple[str, str, Callable[[str], str]]] = {
    "person": ("person", "person_id", lambda t: scope.person_visible(f"{t}.person_id")),
    "record": ("person_record", "record_id",
               lambda t: scope.record_visible(f"{t}.record_id", f"{t}.source")),
    "event": ("event", "event_id", lambda t: scope.event_visible(f"{t}.event_id", f"{t}.source")),
    "review_item": ("review_item", "item_id", scope.item_visible),
    "network": ("network", "network_id", lambda t: scope.network_visible(f"{t}.network_id")),
}  # fmt: skip


def visibility(
    reader: SnapshotReader, params: dict[str, object], kind: str, ids: list[str]
) -> dict[str, bool]:
    """Whether the scopes show each of ``ids`` (of ``kind``, a key of :data:`VISIBLE_KINDS`)
    that exists in the snapshot; an id it does not hold is left out."""
    table, column, visible = VISIBLE_KINDS[kind]
    if not ids or not reader.has(table):
        return {}
    rows = reader.dicts(
        f"""SELECT t.{column} AS id, {visible("t")} AS visible FROM {table} t
        WHERE t.{column} IN (SELECT unnest(CAST($ids AS VARCHAR[])))""",
        {"scopes": params["scopes"], "ids": ids},
    )
    return {row["id"]: bool(row["visible"]) for row in rows}


def visible_ids(
    reader: SnapshotReader, params: dict[str, object], kind: str, ids: list[str]
) -> set[str]:
    """Those of ``ids`` (of ``kind``) the scopes show."""
    return {i for i, shown in visibility(reader, params, kind, ids).items() if shown}


def network_edges(reader: SnapshotReader, network_id: str) -> list[Row]:
    """A network's ties."""
    return reader.dicts(
        "SELECT person_a, person_b, kind, events, sources FROM network_edge "
        "WHERE network_id = $id ORDER BY person_a, person_b, kind",
        {"id": network_id},
    )
