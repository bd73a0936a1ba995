"""Agency scope as SQL over a snapshot: which persons, records, events, items and networks a
set of agencies may see.

The rule (docs/service.md, "Casework API"): a record is *in scope* when its source's agency is
one of the caller's. A person is visible when one of their records is in scope, and then all of
their records are (that is what linkage is for: the same child known to another agency). A
record is visible when it is in scope or is a record of a visible person; an event when its
source is in scope or a visible record is involved in it; a review item when its subject (event
or person) is visible; a network when one of its members is. Everything else does not exist.

Each expression takes the scopes as the named parameter ``$scopes`` (a list of agencies). The
rule is worked out once per snapshot, into the :data:`SCOPE_TABLES` a publish adds to it.
"""

from __future__ import annotations

SCOPED_SOURCE = "SELECT source FROM source WHERE list_contains(CAST($scopes AS VARCHAR[]), agency)"

# The rule, worked out once per snapshot when it is published (snapshot.py): for each person,
# record, event, review item and network, every source whose being in scope makes it visible.
# A request then asks one narrow, indexed table whether one of those sources is in its scopes,
# instead of joining whole tables. (name, the tables it needs, the query that makes it.)
SCOPE_TABLES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    # a person: the sources of their records
    ("cb_scope_person", ("person_link", "person_record"), """
        SELECT DISTINCT l.person_id, r.source FROM person_link l
        JOIN person_record r ON r.record_id = l.record_id"""),
    # a record: its own source, and those of its person's records
    ("cb_scope_record", ("person_record", "person_link"), """
        SELECT r.record_id, r.source FROM person_record r
        UNION SELECT l.record_id, p.source FROM person_link l
        JOIN cb_scope_person p ON p.person_id = l.person_id"""),
    # an event: its source, and those of the persons whose records are involved in it
    ("cb_scope_event", ("event", "involvement", "person_link"), """
        SELECT e.event_id, e.source FROM event e
        UNION SELECT i.event_id, p.source FROM involvement i
        JOIN person_link l ON l.record_id = i.record_id
        JOIN cb_scope_person p ON p.person_id = l.person_id"""),
    # a review item: its subject event's, or its subject person's
    ("cb_scope_item", ("review_item", "cb_scope_event"), """
        SELECT i.item_id, e.source FROM review_item i
        JOIN cb_scope_event e ON e.event_id = i.event_id
        UNION SELECT i.item_id, p.source FROM review_item i
        JOIN cb_scope_person p ON p.person_id = i.person_id"""),
    # a network: its members'
    ("cb_scope_network", ("network_member", "cb_scope_person"), """
        SELECT DISTINCT m.network_id, p.source FROM network_member m
        JOIN cb_scope_person p ON p.person_id = m.person_id"""),
)  # fmt: skip


def by_parameter(key: str) -> bool:
    """Whether ``key`` is a query parameter (``$id``): one thing, looked up by its index."""
    return key.startswith("$")


def _seen(table: str, column: str, key: str) -> str:
    """True when the scope table ``table`` gives ``key`` a source in scope. A parameter is
    looked up alone (DuckDB probes the index only for a bare equality), and its sources are
    compared as a list; a column (many things at once) is a semi-join."""
    if by_parameter(key):
        return (
            f"coalesce(list_has_any((SELECT list(seen.source) FROM {table} seen "
            f"WHERE seen.{column} = {key}), (SELECT list(source) FROM ({SCOPED_SOURCE}))), false)"
        )
    return (
        f"EXISTS (SELECT 1 FROM {table} seen WHERE seen.{column} = {key} "
        f"AND seen.source IN ({SCOPED_SOURCE}))"
    )


def person_visible(person: str) -> str:
    """True when the person ``person`` (an SQL expression) has a record in scope."""
    return _seen("cb_scope_person", "person_id", person)


def record_visible(record: str, source: str) -> str:
    """True when the record ``record`` (of source ``source``) is in scope or is a record of a
    visible person."""
    return f"({source} IN ({SCOPED_SOURCE}) OR {_seen('cb_scope_record', 'record_id', record)})"


def event_visible(event: str, source: str) -> str:
    """True when the event's source is in scope or a visible person's record is involved."""
    return f"({source} IN ({SCOPED_SOURCE}) OR {_seen('cb_scope_event', 'event_id', event)})"


def item_visible(item: str) -> str:
    """True when the review item ``item`` (an SQL expression) has a visible subject."""
    return _seen("cb_scope_item", "item_id", item)


def network_visible(network: str) -> str:
    """True when a member of the network ``network`` is visible."""
    return _seen("cb_scope_network", "network_id", network)


def persons_seen(candidates: str) -> str:
    """A query of the persons among ``candidates`` (a query of person ids) with a record in
    scope, for many persons at once."""
    return (
        "SELECT DISTINCT seen_p.person_id FROM cb_scope_person seen_p "
        f"WHERE seen_p.person_id IN ({candidates}) AND seen_p.source IN ({SCOPED_SOURCE})"
    )


# the review items whose subject is visible, for every item at once
ITEMS_SEEN = f"SELECT DISTINCT item_id FROM cb_scope_item WHERE source IN ({SCOPED_SOURCE})"


# a record is protected (its identifying details masked for some roles) when it is involved
# in any event in one of these roles: services/masking.py says why
def record_protected(record: str) -> str:
    """True when the record ``record`` is a victim's or a child subject's somewhere."""
    if by_parameter(record):
        return (
            "coalesce(list_has_any((SELECT list(prot_i.role) FROM involvement prot_i "
            f"WHERE prot_i.record_id = {record}), $protected), false)"
        )
    return (
        "EXISTS (SELECT 1 FROM involvement prot_i "
        f"WHERE prot_i.record_id = {record} AND list_contains($protected, prot_i.role))"
    )


def person_protected(person: str) -> str:
    """True when any record of the person ``person`` is protected."""
    if by_parameter(person):
        return (
            "coalesce(list_has_any((SELECT list(prot_i.role) FROM involvement prot_i "
            "WHERE prot_i.record_id IN (SELECT prot_l.record_id FROM person_link prot_l "
            f"WHERE prot_l.person_id = {person})), $protected), false)"
        )
    return (
        "EXISTS (SELECT 1 FROM person_link prot_l JOIN involvement prot_i "
        "ON prot_i.record_id = prot_l.record_id "
        f"WHERE prot_l.person_id = {person} AND list_contains($protected, prot_i.role))"
    )


# the persons a set of review items ($items) concerns: their subject person, everyone involved
# in their subject event, and every person whose record they cite as evidence
CONCERNED_PERSON = """
    SELECT person_id FROM review_item
    WHERE list_contains(CAST($items AS VARCHAR[]), item_id) AND person_id IS NOT NULL
    UNION
    SELECT l.person_id FROM review_item i
    JOIN involvement n ON n.event_id = i.event_id
    JOIN person_link l ON l.record_id = n.record_id
    WHERE list_contains(CAST($items AS VARCHAR[]), i.item_id)
    UNION
    SELECT l.person_id FROM review_evidence v
    JOIN person_link l ON l.record_id = v.record_id
    WHERE list_contains(CAST($items AS VARCHAR[]), v.item_id)
"""
