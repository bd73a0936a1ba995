"""Rows read from a snapshot or the operational store, shaped into the API's answers, masked
where the caller's role does not see victims' details. Times from the operational store are
given in UTC with their offset on every database (SQLite gives them back without a zone)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from casebridge.web.models import Assignment, ItemStatus, Judgement, Note
from casebridge.web.services import masking
from casebridge.web.services.reads import Row
from casebridge.web.services.schemas import (
    AssignmentOut,
    ComparedValue,
    EventDetail,
    IdentifierOut,
    Involvement,
    ItemEvidence,
    JudgementOut,
    NetworkEdge,
    NetworkMember,
    NetworkSummary,
    NoteOut,
    PersonEvent,
    PersonItem,
    PersonSummary,
    QueueItem,
    RecordOut,
    SearchHit,
    SourceRow,
    StatusEntry,
)
from casebridge.web.trail import as_utc


def queue_item(row: Row, status: str, assignee_id: int | None) -> QueueItem:
    """A review item as the queue lists it."""
    return QueueItem(
        item_id=row["item_id"], subject=row["subject"], event_id=row["event_id"],
        person_id=row["person_id"], source=row["source"], agencies=list(row["agencies"] or []),
        kind=row["kind"], event_date=row["event_date"], rules=list(row["rules"] or []),
        rule_count=int(row["rule_count"]), priority=float(row["priority"]),
        status=status, assignee_id=assignee_id,
    )  # fmt: skip


def evidence(row: Row) -> ItemEvidence:
    """A cited record; one outside the caller's scope keeps its rule, kind and role only."""
    if row["visible"]:
        return ItemEvidence(
            rule_id=row["rule_id"], evidence=row["evidence"], source=row["source"],
            local_id=row["local_id"], event_id=row["event_id"], record_id=row["record_id"],
            role=row["role"], what=row["what"],
        )  # fmt: skip
    return ItemEvidence(
        rule_id=row["rule_id"], evidence=row["evidence"], source=None, local_id=None,
        event_id=None, record_id=None, role=row["role"], what="outside your scope",
        withheld=True,
    )  # fmt: skip


def status_entry(row: ItemStatus) -> StatusEntry:
    return StatusEntry(
        status=row.status,
        reason=row.reason,
        account_id=row.account_id,
        at=as_utc(row.at),
    )


def assignment(row: Assignment) -> AssignmentOut:
    return AssignmentOut(
        item_id=row.item_id,
        assignee_id=row.assignee_id,
        assigned_by=row.assigned_by,
        at=as_utc(row.at),
    )


def note(row: Note) -> NoteOut:
    return NoteOut(
        id=row.id, subject_kind=row.subject_kind, subject_id=row.subject_id, text=row.text,
        account_id=row.account_id, at=as_utc(row.at),
    )  # fmt: skip


def judgement(row: Judgement) -> JudgementOut:
    return JudgementOut(
        id=row.id, record_l=row.record_l, record_r=row.record_r,
        verdict=row.verdict,
        reason=row.reason, account_id=row.account_id, at=as_utc(row.at),
    )  # fmt: skip


def record(row: Row, hide: bool) -> RecordOut:
    """A record with its provenance; a protected one masked when ``hide``."""
    fields, masked = masking.field_values(row, masking.RECORD_FIELDS, hide)
    aliases = list(row["aliases"]) if row.get("aliases") else None
    if hide and aliases:
        masked.append("aliases")
        aliases = None
    return RecordOut(
        record_id=row["record_id"], source=row["source"], agency=row.get("agency"),
        local_id=row["local_id"], file_name=row.get("file_name"), first_row=row.get("first_row"),
        person_id=row.get("person_id"), link_probability=_number(row.get("link_probability")),
        protected=bool(row.get("protected")), age_band=masking.age_band(row.get("youngest")),
        fields=fields, aliases=aliases, masked=masked,
    )  # fmt: skip


def source_row(row: Row, hide: bool) -> SourceRow:
    """One source row behind a record."""
    fields, masked = masking.field_values(row, masking.ROW_FIELDS, hide)
    return SourceRow(
        file_name=row.get("file_name"), row_number=row.get("row_number"),
        event_id=row.get("event_id"), fields=fields, masked=masked,
    )  # fmt: skip


def identifier(row: Row) -> IdentifierOut:
    return IdentifierOut(scheme=row["scheme"], value=row["value"], value_raw=row["value_raw"])


def person(row: Row, hide: bool) -> PersonSummary:
    """A person's best values; a protected person's identifying ones masked when ``hide``."""
    shown, masked = masking.masked_values(row, masking.PERSON_IDENTIFYING, hide)
    return PersonSummary(
        person_id=shown["person_id"], records=int(shown["records"]),
        sources=int(shown["sources"]), forename=shown.get("forename"),
        surname=shown.get("surname"), date_of_birth=shown.get("date_of_birth"),
        sex=shown.get("sex"), ethnicity_self=shown.get("ethnicity_self"),
        ethnicity_officer=shown.get("ethnicity_officer"), nationality=shown.get("nationality"),
        postcode=shown.get("postcode"), protected=bool(row.get("protected")), masked=masked,
    )  # fmt: skip


def involvement(row: Row, hide_victims: bool) -> Involvement:
    """A part in an event; withheld outside scope, masked for a protected record."""
    band = masking.age_band(row.get("age_at_event"))
    if not row["visible"]:
        return Involvement(
            record_id=None, person_id=None, role=row["role"], role_raw=None, age_at_event=None,
            age_band=band, forename=None, surname=None, protected=bool(row["protected"]),
            withheld=True, masked=[],
        )  # fmt: skip
    hide = hide_victims and bool(row["protected"])
    shown, masked = masking.masked_values(row, ("forename", "surname", "age_at_event"), hide)
    return Involvement(
        record_id=row["record_id"], person_id=row["person_id"], role=row["role"],
        role_raw=row["role_raw"], age_at_event=shown["age_at_event"], age_band=band,
        forename=shown["forename"], surname=shown["surname"], protected=bool(row["protected"]),
        withheld=False, masked=masked,
    )  # fmt: skip


def compared_values(
    row: Row, first_is_left: bool, hide_first: bool, hide_second: bool
) -> tuple[list[ComparedValue], list[str]]:
    """The values a scored pair was compared on, each side masked as its record needs."""
    fields = [c[:-2] for c in row if c.endswith("_l") and not c.startswith(("tf_", "record"))]
    values: list[ComparedValue] = []
    masked: set[str] = set()
    for name in fields:
        left, right = row.get(f"{name}_l"), row.get(f"{name}_r")
        first, second = (left, right) if first_is_left else (right, left)
        if name not in masking.PAIR_SHOWN:
            if hide_first and first is not None:
                first = None
                masked.add(name)
            if hide_second and second is not None:
                second = None
                masked.add(name)
        values.append(
            ComparedValue(field=name, first=masking.as_text(first), second=masking.as_text(second))
        )
    return values, sorted(masked)


# how a network member outside the caller's scope is named: numbered in member order, so the
# ties between members keep their shape without an id from another agency's records
WITHHELD_MEMBER = "withheld-{}"


@dataclass(frozen=True)
class NetworkView:
    """A network as the caller's scopes show it: each member by its person id when visible,
    else as ``withheld-N``; and the events of its ties that the scopes show."""

    names: dict[str, str]
    events: frozenset[str]


def member_names(members: list[Row]) -> dict[str, str]:
    """Person id to the name a member goes by in an answer (``members`` in member order, each
    marked ``visible``)."""
    names: dict[str, str] = {}
    withheld = 0
    for row in members:
        if row["visible"]:
            names[row["person_id"]] = row["person_id"]
        else:
            withheld += 1
            names[row["person_id"]] = WITHHELD_MEMBER.format(withheld)
    return names


def network(row: Row, shown: set[str]) -> NetworkSummary:
    """A network's summary; its central suspects are those of ``shown`` (the visible)."""
    return NetworkSummary(
        network_id=row["network_id"], suspects=row["suspects"], victims=row["victims"],
        events=row["events"], sources=list(row["sources"] or []), forces=row["forces"],
        first_date=row["first_date"], last_date=row["last_date"],
        central_suspects=[p for p in row["central_suspects"] or [] if p in shown],
        charged_events=row["charged_events"], cse_flagged_events=row["cse_flagged_events"],
        edges=row["edges"],
    )  # fmt: skip


def network_member(row: Row, view: NetworkView) -> NetworkMember:
    """A member, by the name the view gives it."""
    return NetworkMember(**{**row, "person_id": view.names[row["person_id"]]})


def person_event(row: Row, hide: bool) -> PersonEvent:
    """An event of a person's; a masked person's exact age in it is left out (its band stays)."""
    band = masking.age_band(row["age_at_event"])
    return PersonEvent(**{**row, "age_at_event": None if hide else row["age_at_event"]},
                       age_band=band)  # fmt: skip


def person_item(row: Row, statuses: dict[str, str]) -> PersonItem:
    """A review item about a person, with its status (new when nobody set one)."""
    return PersonItem(
        item_id=row["item_id"], subject=row["subject"], rules=list(row["rules"]),
        priority=float(row["priority"]), status=statuses.get(row["item_id"], "new"),
    )  # fmt: skip


def event(snapshot: str, row: Row, involvements: list[Involvement], hide: bool) -> EventDetail:
    """An event with its values raw beside standardised; its free text masked when ``hide``."""
    fields, masked = masking.field_values(row, masking.EVENT_FIELDS, hide)
    return EventDetail(
        snapshot=snapshot, event_id=row["event_id"], source=row["source"], agency=row["agency"],
        local_id=row["local_id"], first_row=row["first_row"], kind=row["kind"],
        event_date=row["event_date"], offence_description=row["offence_description"],
        outcome_label=row["outcome_label"], outcome_category=row["outcome_category"],
        is_sexual=row["is_sexual"], victim_age_band=row["victim_age_band"], fields=fields,
        involvements=involvements, masked=masked,
    )  # fmt: skip


def network_edge(row: Row, view: NetworkView) -> NetworkEdge:
    """A tie between two members, by the names the view gives them, with the events the
    caller's scopes show."""
    return NetworkEdge(
        person_a=view.names.get(row["person_a"], WITHHELD_MEMBER.format(0)),
        person_b=view.names.get(row["person_b"], WITHHELD_MEMBER.format(0)),
        kind=row["kind"], events=[e for e in row["events"] or [] if e in view.events],
        sources=list(row["sources"] or []),
    )  # fmt: skip


def search_hit(row: Row, matched_on: list[str]) -> SearchHit:
    """A person found (a protected one never reaches here for a role that masks them)."""
    return SearchHit(
        person_id=row["person_id"], records=int(row["records"]), sources=int(row["sources"]),
        forename=row["forename"], surname=row["surname"], date_of_birth=row["date_of_birth"],
        postcode=row["postcode"], matched_on=matched_on, masked=[],
    )  # fmt: skip


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number
