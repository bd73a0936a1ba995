"""The one data-access layer: every route reads and writes casework through an :class:`Access`.

For the signed-in principal it enforces, on every call:

- **role**: the permission the call needs (``permissions.py``), checked again here whatever the
  route declared;
- **agency scope** (``services/scope.py``): outside it a person, record, event, review item or
  network does not exist; :class:`NotFoundError` says exactly what a missing id says;
- **masking** (``services/masking.py``): a victim's identifying details are null for a role
  without ``Permission.READ_VICTIM_DETAILS``;
- **break glass**: a role bound to its assignments (:data:`ASSIGNMENT_BOUND_ROLES`) reads only
  what the items assigned to it concern, unless it states a reason; with one the read is
  allowed and its trail entry flagged for supervisors;
- **the trail**: every read of personal data and every write appends an entry (ids only, never
  names or search terms) in the same transaction as the write, before any data is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casebridge.errors import CasebridgeError, UsageError
from casebridge.link.explain import explain_row
from casebridge.web import trail
from casebridge.web.db import transaction
from casebridge.web.deps import Principal
from casebridge.web.models import AccountScope, Assignment, ItemStatus, Judgement, Note
from casebridge.web.permissions import Permission, Role, allowed
from casebridge.web.services import operational, reads, shapes
from casebridge.web.services.exports import ExportedFile, export_network
from casebridge.web.services.facets import FacetCount, queue_facets
from casebridge.web.services.masking import PROTECTED_ROLES
from casebridge.web.services.schemas import (
    AssignmentChange,
    AssignmentOut,
    ComparedValue,
    Comparison,
    EventDetail,
    ItemDetail,
    ItemReason,
    JudgementIn,
    JudgementOut,
    NetworkDetail,
    NetworkPage,
    NoteIn,
    NoteOut,
    PairDetail,
    PersonDetail,
    PersonNetwork,
    QueuePage,
    RecordDetail,
    SearchResults,
    SnapshotOut,
    StatusChange,
    StatusEntry,
)
from casebridge.web.services.search import LIMIT, SearchTerms, find_persons
from casebridge.web.snapshot import SnapshotReader

# roles whose reading is bound to the items assigned to them: reviewers see victims' details
# and work the items they are given. Supervisors oversee every item in their scope (they
# assign the work and review the flags); analysts see victims masked and work across their
# scope (networks, statistics). Every read of theirs is still a trail entry.
ASSIGNMENT_BOUND_ROLES = frozenset({Role.REVIEWER})
REASON_HEADER = "X-Access-Reason"


class AccessError(CasebridgeError):
    """A call the data-access layer refuses; ``status`` is the HTTP status it becomes."""

    status = 400


class NotFoundError(AccessError):
    """No such thing, or one outside the caller's scope: the two are told apart nowhere."""

    status = 404


class ReasonRequiredError(AccessError):
    """A read beyond the caller's assignments without a stated reason."""

    status = 403


class ForbiddenError(AccessError):
    """The caller's role may not do this."""

    status = 403


class ConflictError(AccessError):
    """The item is held by someone else."""

    status = 409


class InvalidError(AccessError):
    """A well-formed request the casework rules refuse (a closing without a reason)."""

    status = 422


class NotReadyError(AccessError):
    """The published results do not hold this yet (a stage has not run)."""

    status = 503


NOT_FOUND = "not found"
REASON_NEEDED = (
    "a reason is needed to open this: it is outside the items assigned to you; give one in "
    f"the reason parameter or the {REASON_HEADER} header (the access is flagged to supervisors)"
)
STAGE_OF = {
    "review_item": "screen", "review_reason": "screen", "review_evidence": "screen",
    "person": "link", "person_link": "link", "network": "networks",
    "network_member": "networks", "network_edge": "networks",
}  # fmt: skip


# trail subject kinds that live in an agency's scope (the kinds casework entries name)
SCOPED_SUBJECTS = frozenset(reads.VISIBLE_KINDS)


def subjects_shown(
    principal: Principal, reader: SnapshotReader, subjects: list[tuple[str | None, list[str]]]
) -> list[bool]:
    """For each (kind, ids) a trail entry is about, whether it names nothing the principal's
    scopes hide: no id that the snapshot holds outside them. A kind that lives in no agency's
    scope (an account, say) and an id the snapshot no longer holds (a person renumbered by a
    later link) hide nothing."""
    params: dict[str, object] = {"scopes": sorted(principal.scopes)}
    wanted: dict[str, set[str]] = {}
    for kind, ids in subjects:
        if kind in SCOPED_SUBJECTS:
            wanted.setdefault(kind, set()).update(ids)
    hidden = {
        kind: {i for i, shown in reads.visibility(reader, params, kind, sorted(ids)).items()
               if not shown}
        for kind, ids in wanted.items()
    }  # fmt: skip
    return [not hidden.get(kind or "", set()) & set(ids) for kind, ids in subjects]


@dataclass
class Access:
    """One request's access to casework, as one principal, with the reason it gave (if any)."""

    principal: Principal
    reader: SnapshotReader
    sessions: sessionmaker[Session]
    reason: str | None = None

    # ---- the policy --------------------------------------------------------------------

    @property
    def params(self) -> dict[str, object]:
        """The scope and masking parameters every snapshot query takes."""
        return {"scopes": sorted(self.principal.scopes), "protected": list(PROTECTED_ROLES)}

    def can(self, permission: Permission) -> bool:
        """Whether the principal's role may do ``permission``."""
        return allowed(self.principal.role, permission)

    def _require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise ForbiddenError("your role may not do this")

    def _needs(self, *tables: str) -> None:
        missing = [table for table in tables if not self.reader.has(table)]
        if missing:
            stage = STAGE_OF.get(missing[0], "run")
            raise NotReadyError(
                f"the published results have no {missing[0]} yet: run 'casebridge {stage}'"
            )

    @property
    def hides_victims(self) -> bool:
        """Whether victims' identifying details are masked for this principal."""
        return not self.can(Permission.READ_VICTIM_DETAILS)

    @property
    def bound_to_assignments(self) -> bool:
        """Whether reading beyond the principal's assignments needs a reason."""
        return self.principal.role in ASSIGNMENT_BOUND_ROLES

    @cached_property
    def assigned(self) -> list[str]:
        """The review items assigned to the principal now."""
        with self.sessions() as session:
            return operational.assigned_to(session, self.principal.account_id)

    def _concerned(self, kind: str, subject_id: str) -> bool:
        if kind == "item":
            return subject_id in self.assigned
        return reads.concerned(self.reader, self.assigned, kind, subject_id)

    def _break_glass(self, *subjects: tuple[str, str]) -> bool:
        """Whether the read is flagged: beyond the principal's assignments (none of
        ``subjects``, (kind, id) pairs, is concerned by them) by a role bound to them. Without a
        reason such a read is refused."""
        if not self.bound_to_assignments:
            return False
        if any(self._concerned(kind, subject_id) for kind, subject_id in subjects):
            return False
        if not self.reason:
            raise ReasonRequiredError(REASON_NEEDED)
        return True

    def _trail(
        self,
        session: Session,
        action: str,
        kind: str | None,
        ids: list[str],
        flagged: bool = False,
    ) -> None:
        trail.record(session, self.principal, action, kind, ids, self.reason, flagged)

    def _trail_read(self, action: str, kind: str, ids: list[str], flagged: bool = False) -> None:
        """Record a read, committed before its data is returned."""
        with transaction(self.sessions) as session:
            self._trail(session, action, kind, ids, flagged)

    # ---- the queue and its items -------------------------------------------------------

    def snapshot(self) -> SnapshotOut:
        """The published results being read (no personal data: not trailed)."""
        self._require(Permission.READ_CASEWORK)
        current = self.reader.snapshot
        return SnapshotOut(name=current.name, published_at=current.published_at)

    def queue(self, chosen: reads.QueueFilter, page: int, page_size: int) -> QueuePage:
        """One page of the review items in scope, highest priority first."""
        self._require(Permission.READ_CASEWORK)
        self._needs("review_item", "review_evidence")
        with self.sessions() as session:
            casework = operational.statuses(session), operational.assignees(session)
        total, rows = reads.queue(self.reader, self.params, casework, chosen, page, page_size)
        items = [shapes.queue_item(r, r["status"], r["assignee_id"]) for r in rows]
        self._trail_read("casework.read_queue", "review_item", [item.item_id for item in items])
        return QueuePage(
            snapshot=self.reader.snapshot.name, total=total, page=page, page_size=page_size,
            items=items,
        )  # fmt: skip

    def queue_facets(self, chosen: reads.QueueFilter) -> list[FacetCount]:
        """How many of the items ``chosen`` selects fall under each rule, status, agency,
        assignee and year: counts only, no ids (not trailed; the queue page is)."""
        self._require(Permission.READ_CASEWORK)
        self._needs("review_item", "review_reason", "review_evidence")
        with self.sessions() as session:
            casework = operational.statuses(session), operational.assignees(session)
        return queue_facets(self.reader, self.params, casework, chosen, self.principal.account_id)

    def _item_row(self, item_id: str) -> reads.Row:
        self._needs("review_item", "review_reason", "review_evidence")
        found = reads.item(self.reader, self.params, item_id)
        if found is None:
            raise NotFoundError(NOT_FOUND)
        return found

    def item(self, item_id: str) -> ItemDetail:
        """A review item: its rules, reasons, basis, facts and evidence, with its casework."""
        self._require(Permission.READ_CASEWORK)
        row = self._item_row(item_id)
        flagged = self._break_glass(("item", item_id))
        reasons = reads.item_reasons(self.reader, item_id)
        evidence = reads.item_evidence(self.reader, self.params, item_id)
        with transaction(self.sessions) as session:
            statuses = operational.status_history(session, item_id)
            assignment = operational.assignment_of(session, item_id)
            notes = operational.notes_on(session, "review_item", item_id)
            self._trail(session, "casework.read_item", "review_item", [item_id], flagged)
        status = statuses[-1].status if statuses else operational.DEFAULT_STATUS
        return ItemDetail(
            snapshot=self.reader.snapshot.name,
            item=shapes.queue_item(row, status, assignment.assignee_id if assignment else None),
            reason=row["reason"],
            reasons=[ItemReason(**r) for r in reasons],
            evidence=[shapes.evidence(e) for e in evidence],
            statuses=[shapes.status_entry(s) for s in statuses],
            assignment=shapes.assignment(assignment) if assignment else None,
            notes=[shapes.note(n) for n in notes],
        )

    def set_status(self, item_id: str, change: StatusChange) -> StatusEntry:
        """Change an item's status; the item must be assigned to the principal unless their
        role assigns others; no_further_action needs a reason."""
        self._require(Permission.WORK_ITEMS)
        self._item_row(item_id)
        reason = (change.reason or "").strip() or None
        if change.status == "no_further_action" and reason is None:
            raise InvalidError("closing an item with no further action needs a reason")
        with transaction(self.sessions) as session:
            self._require_holder(session, item_id)
            row = ItemStatus(
                item_id=item_id, status=change.status, reason=reason,
                account_id=self.principal.account_id,
            )  # fmt: skip
            operational.add(session, [row])
            self._trail(session, "casework.set_item_status", "review_item", [item_id])
        return shapes.status_entry(row)

    def _require_holder(self, session: Session, item_id: str) -> None:
        if self.can(Permission.ASSIGN_OTHERS):
            return
        current = operational.assignment_of(session, item_id)
        if current is None or current.assignee_id != self.principal.account_id:
            raise ForbiddenError("assign the item to yourself first")

    def assign(self, item_id: str, change: AssignmentChange) -> AssignmentOut:
        """Assign an item to the principal, to another account (ASSIGN_OTHERS) or to nobody."""
        self._require(Permission.WORK_ITEMS)
        self._item_row(item_id)
        me = self.principal.account_id
        target = None if change.unassign else (change.assignee_id or me)
        with transaction(self.sessions) as session:
            current = operational.assignment_of(session, item_id)
            holder = current.assignee_id if current else None
            if not self.can(Permission.ASSIGN_OTHERS):
                if target not in (None, me):
                    raise ForbiddenError("your role may assign items to yourself only")
                if holder not in (None, me):
                    raise ConflictError("the item is assigned to another account; ask a supervisor")
            if target is not None and target != me:
                self._check_assignee(session, target, item_id)
            row = Assignment(item_id=item_id, assignee_id=target, assigned_by=me)
            operational.add(session, [row])
            self._trail(session, "casework.assign_item", "review_item", [item_id])
        return shapes.assignment(row)

    def _check_assignee(self, session: Session, account_id: int, item_id: str) -> None:
        """An item goes only to an active account whose scope holds it."""
        if not operational.active_account(session, account_id):
            raise InvalidError("no active account with that id")
        agencies = session.scalars(
            select(AccountScope.agency).where(AccountScope.account_id == account_id)
        )
        theirs: dict[str, object] = {"scopes": sorted(agencies), "protected": list(PROTECTED_ROLES)}
        if reads.item(self.reader, theirs, item_id) is None:
            raise InvalidError("that account's agency scope does not hold this item")

    def add_note(self, item_id: str, given: NoteIn) -> NoteOut:
        """Add a note to an item (beyond one's assignments only with a reason)."""
        self._require(Permission.WORK_ITEMS)
        self._item_row(item_id)
        flagged = self._break_glass(("item", item_id))
        with transaction(self.sessions) as session:
            row = Note(
                subject_kind="review_item", subject_id=item_id, text=given.text,
                account_id=self.principal.account_id,
            )  # fmt: skip
            operational.add(session, [row])
            self._trail(session, "casework.add_note", "review_item", [item_id], flagged)
        return shapes.note(row)

    # ---- persons, records, events ------------------------------------------------------

    def person(self, person_id: str) -> PersonDetail:
        """A person: their records across agencies, events, networks and review items."""
        self._require(Permission.READ_CASEWORK)
        self._needs("person", "person_link")
        row = reads.person(self.reader, self.params, person_id)
        if row is None:
            raise NotFoundError(NOT_FOUND)
        flagged = self._break_glass(("person", person_id))
        hide = self.hides_victims and bool(row["protected"])
        records = reads.records_of_person(self.reader, self.params, person_id)
        events = reads.events_of_person(self.reader, person_id)
        items = reads.items_of_person(self.reader, person_id) if self.reader.has(
            "review_item") else []  # fmt: skip
        with transaction(self.sessions) as session:
            statuses = operational.statuses(session)
            self._trail(session, "casework.read_person", "person", [person_id], flagged)
        return PersonDetail(
            snapshot=self.reader.snapshot.name,
            person=shapes.person(row, hide),
            records=[shapes.record(r, self.hides_victims and r["protected"]) for r in records],
            events=[shapes.person_event(e, hide) for e in events],
            networks=[PersonNetwork(**n) for n in reads.networks_of_person(self.reader, person_id)],
            items=[shapes.person_item(i, statuses) for i in items],
        )

    def record(self, record_id: str) -> RecordDetail:
        """A record with the source rows behind it and its identifiers."""
        self._require(Permission.READ_CASEWORK)
        row = reads.record(self.reader, self.params, record_id)
        if row is None:
            raise NotFoundError(NOT_FOUND)
        flagged = self._break_glass(("record", record_id))
        hide = self.hides_victims and bool(row["protected"])
        rows = [shapes.source_row(r, hide) for r in reads.record_rows(self.reader, record_id)]
        identifiers = [] if hide else reads.record_identifiers(self.reader, record_id)
        self._trail_read("casework.read_record", "record", [record_id], flagged)
        return RecordDetail(
            snapshot=self.reader.snapshot.name,
            record=shapes.record(row, hide),
            rows=rows,
            identifiers=[shapes.identifier(i) for i in identifiers],
            masked=["identifiers"] if hide else [],
        )

    def event(self, event_id: str) -> EventDetail:
        """An event, values raw beside standardised, with who was involved."""
        self._require(Permission.READ_CASEWORK)
        row = reads.event(self.reader, self.params, event_id)
        if row is None:
            raise NotFoundError(NOT_FOUND)
        flagged = self._break_glass(("event", event_id))
        hide = self.hides_victims and bool(row["protected"])
        parts = reads.involvements(self.reader, self.params, event_id)
        self._trail_read("casework.read_event", "event", [event_id], flagged)
        involvements = [shapes.involvement(p, self.hides_victims) for p in parts]
        return shapes.event(self.reader.snapshot.name, row, involvements, hide)

    # ---- pairs and judgements ----------------------------------------------------------

    def _pair_records(self, first: str, second: str) -> tuple[reads.Row, reads.Row, bool]:
        if first == second:
            raise InvalidError("a pair needs two different records")
        rows = [reads.record(self.reader, self.params, r) for r in (first, second)]
        if rows[0] is None or rows[1] is None:
            raise NotFoundError(NOT_FOUND)
        flagged = self._break_glass(("record", first), ("record", second))
        return rows[0], rows[1], flagged

    def pair(self, first: str, second: str) -> PairDetail:
        """Two records compared: values, per-comparison weights, probability, judgements."""
        self._require(Permission.READ_CASEWORK)
        one, other, flagged = self._pair_records(first, second)
        hide_first = self.hides_victims and bool(one["protected"])
        hide_second = self.hides_victims and bool(other["protected"])
        scored = reads.scored_pair(self.reader, first, second)
        comparisons: list[Comparison] = []
        values: list[ComparedValue] = []
        masked: list[str] = []
        if scored is not None:
            values, masked = shapes.compared_values(
                scored, scored["record_l"] == first, hide_first, hide_second
            )
            comparisons = self._comparisons(scored)
        left, right = sorted((first, second))
        with transaction(self.sessions) as session:
            judgements = operational.judgements_on(session, left, right)
            self._trail(session, "casework.read_pair", "record", [first, second], flagged)
        return PairDetail(
            snapshot=self.reader.snapshot.name, first=first, second=second,
            first_person_id=one["person_id"], second_person_id=other["person_id"],
            same_person=one["person_id"] is not None
            and one["person_id"] == other["person_id"],
            scored=scored is not None,
            match_weight=None if scored is None else float(scored["match_weight"]),
            match_probability=None if scored is None else float(scored["match_probability"]),
            comparisons=comparisons, values=values, masked=masked,
            judgements=[shapes.judgement(j) for j in judgements],
        )  # fmt: skip

    def _comparisons(self, scored: reads.Row) -> list[Comparison]:
        """The scored pair's weights, comparison by comparison (as ``casebridge link
        explain``), from its row already read."""
        model = self.reader.snapshot.model
        if model is None:
            return []
        try:
            rows = explain_row(model, scored)
        except (UsageError, KeyError):
            return []
        return [Comparison(comparison=c, level=str(lv), weight=float(w)) for c, lv, w in rows]

    def judge(self, given: JudgementIn) -> JudgementOut:
        """Store a judgement on a pair; ``casebridge link`` honours the latest for each pair."""
        self._require(Permission.JUDGE_PAIRS)
        _, _, flagged = self._pair_records(given.first, given.second)
        left, right = sorted((given.first, given.second))
        with transaction(self.sessions) as session:
            row = Judgement(
                record_l=left, record_r=right, verdict=given.verdict,
                reason=given.reason.strip(), account_id=self.principal.account_id,
            )  # fmt: skip
            operational.add(session, [row])
            self._trail(session, "casework.judge_pair", "record", [left, right], flagged)
        return shapes.judgement(row)

    # ---- networks ----------------------------------------------------------------------

    def networks(self, page: int, page_size: int) -> NetworkPage:
        """The networks in scope, most suspects first."""
        self._require(Permission.READ_CASEWORK)
        self._needs("network", "network_member")
        total, rows = reads.networks(self.reader, self.params, page, page_size)
        central = sorted({p for r in rows for p in r["central_suspects"] or []})
        shown = reads.visible_ids(self.reader, self.params, "person", central)
        found = [shapes.network(r, shown) for r in rows]
        self._trail_read("casework.read_networks", "network", [n.network_id for n in found])
        return NetworkPage(
            snapshot=self.reader.snapshot.name, total=total, page=page, page_size=page_size,
            networks=found,
        )  # fmt: skip

    def _network_row(self, network_id: str) -> reads.Row:
        self._needs("network", "network_member", "network_edge")
        row = reads.network(self.reader, self.params, network_id)
        if row is None:
            raise NotFoundError(NOT_FOUND)
        return row

    def _network_view(
        self, network_id: str
    ) -> tuple[list[reads.Row], list[reads.Row], shapes.NetworkView]:
        """A network's members and ties, and how the principal's scopes show them: members
        outside the scopes withheld, events outside them left out (outside its scope nothing
        exists, a visible network's other members included)."""
        members = reads.network_members(self.reader, self.params, network_id)
        edges = reads.network_edges(self.reader, network_id)
        events = sorted({e for edge in edges for e in edge["events"] or []})
        shown = reads.visible_ids(self.reader, self.params, "event", events)
        return members, edges, shapes.NetworkView(shapes.member_names(members), frozenset(shown))

    def network(self, network_id: str) -> NetworkDetail:
        """A network: its members with roles and centrality, and its ties."""
        self._require(Permission.READ_CASEWORK)
        row = self._network_row(network_id)
        flagged = self._break_glass(("network", network_id))
        members, edges, view = self._network_view(network_id)
        self._trail_read("casework.read_network", "network", [network_id], flagged)
        shown = {person for person, name in view.names.items() if person == name}
        return NetworkDetail(
            snapshot=self.reader.snapshot.name,
            network=shapes.network(row, shown),
            members=[shapes.network_member(m, view) for m in members],
            edges=[shapes.network_edge(e, view) for e in edges],
        )

    def export_network(self, network_id: str, kind: str) -> ExportedFile:
        """A network as GraphML, GEXF or i2 CSV (a person-level export: trailed as one), its
        members and events outside the principal's scopes withheld as in :meth:`network`."""
        self._require(Permission.EXPORT_NETWORKS)
        self._network_row(network_id)
        flagged = self._break_glass(("network", network_id))
        _, _, view = self._network_view(network_id)
        exported = export_network(self.reader, network_id, kind, view)
        self._trail_read("casework.export_network", "network", [network_id], flagged)
        return exported

    # ---- search ------------------------------------------------------------------------

    def search(self, terms: SearchTerms) -> SearchResults:
        """Persons in scope matching every term given; always with a reason, always trailed."""
        self._require(Permission.SEARCH)
        self._needs("person", "person_link")
        if not self.reason:
            raise ReasonRequiredError(
                "every search needs a reason: give one in the request's reason field or the "
                f"{REASON_HEADER} header"
            )
        if not terms.given():
            raise InvalidError("give a name, birth date, postcode or identifier to search for")
        rows = find_persons(self.reader, self.params, terms, self.hides_victims)
        hits = [shapes.search_hit(row, terms.given()) for row in rows[:LIMIT]]
        self._trail_read(
            "casework.search", "person", [h.person_id for h in hits], self.bound_to_assignments
        )
        return SearchResults(
            snapshot=self.reader.snapshot.name, hits=hits, truncated=len(rows) > LIMIT
        )
