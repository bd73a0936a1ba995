"""The true world: events and who was involved in them, as they happened.

Scenario code appends events one at a time (there are few); background code appends them in
bulk (there are many). :meth:`EventLog.frames` gives both as polars tables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

EVENT_COLUMNS = pl.Schema(
    {
        "event": pl.Int64,
        "source": pl.String,
        "kind": pl.String,
        "date": pl.Int32,
        "offence": pl.String,
        "penetrative": pl.Int8,
        "outcome": pl.String,
        "outcome_date": pl.Int32,
        "is_cse": pl.Boolean,
        "network": pl.Int32,
        "scenario": pl.String,
        "detail": pl.String,
    }
)
INVOLVEMENT_COLUMNS = pl.Schema({"event": pl.Int64, "person": pl.Int64, "role": pl.String})
NO_DATE = -1  # days-since-1970 stand-in for "no date"; only outcome_date uses it


@dataclass
class EventLog:
    """Events and involvements collected as column chunks."""

    _events: list[pl.DataFrame] = field(default_factory=list)
    _involvements: list[pl.DataFrame] = field(default_factory=list)
    _pending_events: list[tuple[object, ...]] = field(default_factory=list)
    _pending_involvements: list[tuple[int, int, str]] = field(default_factory=list)
    next_event: int = 0

    def add_event(
        self,
        source: str,
        kind: str,
        date: int,
        *,
        offence: str = "",
        penetrative: int = -1,
        outcome: str = "",
        outcome_date: int = NO_DATE,
        is_cse: bool = False,
        network: int = -1,
        scenario: str,
        detail: str = "",
    ) -> int:
        """Record one event and return its id."""
        event = self.next_event
        self.next_event += 1
        self._pending_events.append(
            (event, source, kind, date, offence, penetrative, outcome, outcome_date, is_cse)
            + (network, scenario, detail)
        )
        return event

    def involve(self, event: int, person: int, role: str) -> None:
        """Record that ``person`` took part in ``event`` in ``role``."""
        self._pending_involvements.append((event, person, role))

    def add_bulk(self, events: pl.DataFrame, involvements: pl.DataFrame) -> None:
        """Append many events at once; their ``event`` column must start at :attr:`next_event`."""
        self._flush()
        self._events.append(events.select(list(EVENT_COLUMNS)).cast(EVENT_COLUMNS))
        self._involvements.append(
            involvements.select(list(INVOLVEMENT_COLUMNS)).cast(INVOLVEMENT_COLUMNS)
        )
        self.next_event += events.height

    def _flush(self) -> None:
        if self._pending_events:
            self._events.append(
                pl.DataFrame(self._pending_events, schema=EVENT_COLUMNS, orient="row")
            )
            self._pending_events = []
        if self._pending_involvements:
            self._involvements.append(
                pl.DataFrame(self._pending_involvements, schema=INVOLVEMENT_COLUMNS, orient="row")
            )
            self._pending_involvements = []

    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Return (events, involvements) as two tables."""
        self._flush()
        events = pl.concat(self._events) if self._events else pl.DataFrame(schema=EVENT_COLUMNS)
        involvements = (
            pl.concat(self._involvements)
            if self._involvements
            else pl.DataFrame(schema=INVOLVEMENT_COLUMNS)
        )
        return events, involvements.unique(maintain_order=True)


EPOCH = dt.date(1970, 1, 1)


def days(value: dt.date | str) -> int:
    """Return a date (or an ISO date string) as whole days since 1970-01-01."""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return (day - EPOCH).days


YEAR = 365.25
