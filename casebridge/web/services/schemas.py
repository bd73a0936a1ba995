"""The JSON the casework API answers with and accepts, as Pydantic models (the OpenAPI schema
is generated from them).

Values from the data are returned as data: JSON escapes them by construction, so a name holding
``<script>`` or ``=SUM(A1)`` comes back as those characters, never as markup or a formula. A
field masked for the caller's role is null and named in the ``masked`` list beside it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

ItemStatusName = Literal["new", "in_review", "referred", "no_further_action"]
VerdictName = Literal["same", "different", "unsure"]
ExportFormat = Literal["graphml", "gexf", "i2"]
REASON_LIMIT = 2000
NOTE_LIMIT = 10_000
ACCOUNT_ID_LIMIT = 2**63 - 1  # the operational store's ids are 64-bit


def storable(text: str) -> str:
    """Text a database can store as it is: no NUL character (PostgreSQL refuses it) and no
    lone surrogate (it is not Unicode text: JSON lets one through, UTF-8 cannot carry it)."""
    if "\x00" in text:
        raise ValueError("text may not hold a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be Unicode: it holds a lone surrogate") from None
    return text


# text that people send, stored or searched for
Text = Annotated[str, AfterValidator(storable)]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class SnapshotOut(_Out):
    """The published results the service reads now."""

    name: str
    published_at: str | None


class FieldValue(_Out):
    """One field of a record, event or source row: as the source wrote it beside what the
    standard made of it."""

    field: str
    raw: str | None = None
    value: str | None = None


class QueueItem(_Out):
    """A review item as the queue lists it (ids, rules and priority; no names)."""

    item_id: str
    subject: str
    event_id: str | None
    person_id: str | None
    source: str | None
    agencies: list[str]
    kind: str | None
    event_date: dt.date | None
    rules: list[str]
    rule_count: int
    priority: float
    status: ItemStatusName
    assignee_id: int | None


class QueuePage(_Out):
    """One page of the review queue, highest priority first."""

    snapshot: str
    total: int
    page: int
    page_size: int
    items: list[QueueItem]


class ItemReason(_Out):
    """A rule that fired for an item: why, on what basis in law or policy, and what it found."""

    rule_id: str
    title: str
    weight: float
    reason: str
    basis: str
    detail: str | None


class ItemEvidence(_Out):
    """A record a rule cites. ``withheld``: the record is outside the caller's scope, so its
    ids are not given."""

    rule_id: str
    evidence: str
    source: str | None
    local_id: str | None
    event_id: str | None
    record_id: str | None
    role: str | None
    what: str
    withheld: bool = False


class StatusEntry(_Out):
    """One change of an item's status."""

    status: ItemStatusName
    reason: str | None
    account_id: int
    at: dt.datetime


class AssignmentOut(_Out):
    """Who an item is assigned to now (None: nobody)."""

    item_id: str
    assignee_id: int | None
    assigned_by: int
    at: dt.datetime


class NoteOut(_Out):
    """A note on an item; notes are never edited or deleted."""

    id: int
    subject_kind: str
    subject_id: str
    text: str
    account_id: int
    at: dt.datetime


class ItemDetail(_Out):
    """One review item: what ``casebridge screen explain`` shows, with its casework."""

    snapshot: str
    item: QueueItem
    reason: str
    reasons: list[ItemReason]
    evidence: list[ItemEvidence]
    statuses: list[StatusEntry]
    assignment: AssignmentOut | None
    notes: list[NoteOut]


class StatusChange(BaseModel):
    """A new status for an item; no_further_action needs a reason."""

    status: ItemStatusName
    reason: Text | None = Field(default=None, max_length=REASON_LIMIT)


class AssignmentChange(BaseModel):
    """Assign an item: to yourself (your account id, or leave it out), to another account
    (Permission.ASSIGN_OTHERS), or to nobody (``unassign``)."""

    assignee_id: int | None = Field(default=None, ge=1, le=ACCOUNT_ID_LIMIT)
    unassign: bool = False


class NoteIn(BaseModel):
    """A note's text."""

    text: Text = Field(min_length=1, max_length=NOTE_LIMIT)


class RecordOut(_Out):
    """A person record with its provenance: source, agency, file and row, and each value raw
    beside standardised. ``protected``: the record is a victim's (or a child subject's)."""

    record_id: str
    source: str
    agency: str | None
    local_id: str
    file_name: str | None
    first_row: int | None
    person_id: str | None
    link_probability: float | None
    protected: bool
    age_band: str | None
    fields: list[FieldValue]
    aliases: list[str] | None
    masked: list[str]


class SourceRow(_Out):
    """One row of a source file that gave a record its values."""

    file_name: str | None
    row_number: int | None
    event_id: str | None
    fields: list[FieldValue]
    masked: list[str]


class IdentifierOut(_Out):
    """An identifier a record carries (NHS number, UPN, ...)."""

    scheme: str | None
    value: str | None
    value_raw: str | None


class PersonEvent(_Out):
    """An event a person's record is involved in, for the person's timeline."""

    event_id: str
    source: str
    agency: str | None
    kind: str | None
    event_date: dt.date | None
    offence_code: str | None
    offence_description: str | None
    outcome_code: str | None
    outcome_label: str | None
    record_id: str
    role: str | None
    age_at_event: int | None
    age_band: str | None


class PersonNetwork(_Out):
    """A network a person is a member of."""

    network_id: str
    role: str
    events: int | None
    centrality: float | None


class PersonItem(_Out):
    """A review item concerning a person."""

    item_id: str
    subject: str
    rules: list[str]
    priority: float
    status: ItemStatusName


class PersonSummary(_Out):
    """A person's best values (each chosen from their records by the link stage)."""

    person_id: str
    records: int
    sources: int
    forename: str | None
    surname: str | None
    date_of_birth: dt.date | None
    sex: str | None
    ethnicity_self: str | None
    ethnicity_officer: str | None
    nationality: str | None
    postcode: str | None
    protected: bool
    masked: list[str]


class PersonDetail(_Out):
    """A person: their records across agencies with provenance, their events, networks and
    review items."""

    snapshot: str
    person: PersonSummary
    records: list[RecordOut]
    events: list[PersonEvent]
    networks: list[PersonNetwork]
    items: list[PersonItem]


class RecordDetail(_Out):
    """A record with every source row behind it and its identifiers."""

    snapshot: str
    record: RecordOut
    rows: list[SourceRow]
    identifiers: list[IdentifierOut]
    masked: list[str]


class Involvement(_Out):
    """A person's part in an event. ``withheld``: the record is outside the caller's scope,
    so only its role and age band are given."""

    record_id: str | None
    person_id: str | None
    role: str | None
    role_raw: str | None
    age_at_event: int | None
    age_band: str | None
    forename: str | None
    surname: str | None
    protected: bool
    withheld: bool
    masked: list[str]


class EventDetail(_Out):
    """An event with its provenance, values raw beside standardised, and who was involved."""

    snapshot: str
    event_id: str
    source: str
    agency: str | None
    local_id: str
    first_row: int | None
    kind: str | None
    event_date: dt.date | None
    offence_description: str | None
    outcome_label: str | None
    outcome_category: str | None
    is_sexual: bool | None
    victim_age_band: str | None
    fields: list[FieldValue]
    involvements: list[Involvement]
    masked: list[str]


class Comparison(_Out):
    """One step of a match's explanation: a comparison, the level it fell in, its weight."""

    comparison: str
    level: str
    weight: float


class ComparedValue(_Out):
    """A value the model compared, on each side of the pair."""

    field: str
    first: str | None
    second: str | None


class JudgementOut(_Out):
    """A judgement on a pair of records (``record_l`` < ``record_r``)."""

    id: int
    record_l: str
    record_r: str
    verdict: VerdictName
    reason: str
    account_id: int
    at: dt.datetime


class PairDetail(_Out):
    """Two records compared: the values, each comparison's weight and the probability."""

    snapshot: str
    first: str
    second: str
    first_person_id: str | None
    second_person_id: str | None
    same_person: bool
    scored: bool
    match_weight: float | None
    match_probability: float | None
    comparisons: list[Comparison]
    values: list[ComparedValue]
    masked: list[str]
    judgements: list[JudgementOut]


class JudgementIn(BaseModel):
    """Two records are the same person, different people, or unsure; with why."""

    first: Text = Field(min_length=1, max_length=200)
    second: Text = Field(min_length=1, max_length=200)
    verdict: VerdictName
    reason: Text = Field(min_length=1, max_length=REASON_LIMIT)


class NetworkSummary(_Out):
    """A group-based network: its counts, span and the agencies whose records it holds."""

    network_id: str
    suspects: int | None
    victims: int | None
    events: int | None
    sources: list[str]
    forces: int | None
    first_date: dt.date | None
    last_date: dt.date | None
    central_suspects: list[str]
    charged_events: int | None
    cse_flagged_events: int | None
    edges: int | None


class NetworkMember(_Out):
    """A member of a network. ``visible``: the caller may open this person; a member outside
    the caller's scope goes by ``withheld-N`` instead of a person id."""

    person_id: str
    role: str
    events: int | None
    centrality: float | None
    visible: bool


class NetworkEdge(_Out):
    """A tie between two members (by the names the members go by), with the events behind it
    that the caller's scope shows, and its sources."""

    person_a: str
    person_b: str
    kind: str
    events: list[str]
    sources: list[str]


class NetworkDetail(_Out):
    """A network with its members and ties."""

    snapshot: str
    network: NetworkSummary
    members: list[NetworkMember]
    edges: list[NetworkEdge]


class NetworkPage(_Out):
    """The networks the caller may see, largest first."""

    snapshot: str
    total: int
    page: int
    page_size: int
    networks: list[NetworkSummary]


class SearchIn(BaseModel):
    """What to look for (at least one); a reason is required for every search."""

    name: Text | None = Field(default=None, max_length=400)
    birth_date: dt.date | None = None
    postcode: Text | None = Field(default=None, max_length=40)
    identifier: Text | None = Field(default=None, max_length=100)
    reason: Text | None = Field(default=None, max_length=REASON_LIMIT)


class SearchHit(_Out):
    """A person found, with what matched."""

    person_id: str
    records: int
    sources: int
    forename: str | None
    surname: str | None
    date_of_birth: dt.date | None
    postcode: str | None
    matched_on: list[str]
    masked: list[str]


class SearchResults(_Out):
    """The persons found (at most ``limit``; ``truncated`` when there were more)."""

    snapshot: str
    hits: list[SearchHit]
    truncated: bool
