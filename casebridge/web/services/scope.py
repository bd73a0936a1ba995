"""Agency scope as SQL over a snapshot: which persons, records, events, items and networks a
set of agencies may see.

The rule (docs/service.md, "Casework API"): a record is *in scope* when its source's agency is
one of the caller's. A person is visible when one of their records is in scope, and then all of
their records are (that is what linkage is for: the same child known to another agency). A
record is visible when it is in scope or is a record of a visible person; an event when its
source is in scope or a visible record is involved in it; a review item when its subject (event
or person) is visible; a network when one of its members is. Everything else does not exist.

Each expression takes the scopes as the named parameter ``$scopes`` (a list of agencies).
"""

from __future__ import annotations

SCOPED_SOURCE = "SELECT source FROM source WHERE list_contains(CAST($scopes AS VARCHAR[]), agency)"


def person_visible(person: str) -> str:
    """True when the person ``person`` (an SQL expression) has a record in scope."""
    return (
        "EXISTS (SELECT 1 FROM person_link scope_l "
        "JOIN person_record scope_r ON scope_r.record_id = scope_l.record_id "
        f"WHERE scope_l.person_id = {person} AND scope_r.source IN ({SCOPED_SOURCE}))"
    )


def record_visible(record: str, source: str) -> str:
    """True when the record ``record`` (of source ``source``) is in scope or is a record of a
    visible person."""
    linked = (
        "EXISTS (SELECT 1 FROM person_link scope_a "
        "JOIN person_link scope_b ON scope_b.person_id = scope_a.person_id "
        "JOIN person_record scope_s ON scope_s.record_id = scope_b.record_id "
        f"WHERE scope_a.record_id = {record} AND scope_s.source IN ({SCOPED_SOURCE}))"
    )
    return f"({source} IN ({SCOPED_SOURCE}) OR {linked})"


def event_visible(event: str, source: str) -> str:
    """True when the event's source is in scope or a visible person's record is involved."""
    involved = (
        "EXISTS (SELECT 1 FROM involvement scope_i "
        "JOIN person_link scope_p ON scope_p.record_id = scope_i.record_id "
        "JOIN person_link scope_q ON scope_q.person_id = scope_p.person_id "
        "JOIN person_record scope_t ON scope_t.record_id = scope_q.record_id "
        f"WHERE scope_i.event_id = {event} AND scope_t.source IN ({SCOPED_SOURCE}))"
    )
    return f"({source} IN ({SCOPED_SOURCE}) OR {involved})"


def item_visible(alias: str) -> str:
    """True when the review item ``alias`` (a review_item row) has a visible subject."""
    event_source = (
        f"(SELECT scope_e.source FROM event scope_e WHERE scope_e.event_id = {alias}.event_id)"
    )
    return (
        f"(({alias}.event_id IS NOT NULL AND {event_visible(f'{alias}.event_id', event_source)}) "
        f"OR ({alias}.person_id IS NOT NULL AND {person_visible(f'{alias}.person_id')}))"
    )


def network_visible(network: str) -> str:
    """True when a member of the network ``network`` is visible."""
    return (
        "EXISTS (SELECT 1 FROM network_member scope_m "
        f"WHERE scope_m.network_id = {network} AND {person_visible('scope_m.person_id')})"
    )


# a record is protected (its identifying details masked for some roles) when it is involved
# in any event in one of these roles: services/masking.py says why
def record_protected(record: str) -> str:
    """True when the record ``record`` is a victim's or a child subject's somewhere."""
    return (
        "EXISTS (SELECT 1 FROM involvement prot_i "
        f"WHERE prot_i.record_id = {record} AND list_contains($protected, prot_i.role))"
    )


def person_protected(person: str) -> str:
    """True when any record of the person ``person`` is protected."""
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
