"""Tiny hand-built workspaces for the networks stage: a few events, records already linked."""

from __future__ import annotations

from collections.abc import Mapping

from casebridge.engine import Engine
from casebridge.standard.tables import create_tables

SOURCES = (("force_a", "police"), ("force_b", "police"), ("la", "social_care"),
           ("dtr", "duty_report"))  # fmt: skip


def new_engine() -> Engine:
    """An in-memory engine with the standard tables, four sources, and empty link tables."""
    engine = Engine()
    create_tables(engine)
    engine.execute(
        "CREATE TABLE person_link (record_id VARCHAR, person_id VARCHAR, probability DOUBLE)"
    )
    engine.execute("CREATE TABLE person (person_id VARCHAR, date_of_birth DATE)")
    engine.execute(
        "CREATE TABLE match_pair (record_l VARCHAR, record_r VARCHAR, match_probability DOUBLE)"
    )
    for source, kind in SOURCES:
        engine.execute("INSERT INTO source (source, agency, kind) VALUES (?, ?, ?)",
                       [source, source, kind])  # fmt: skip
    return engine


def add_event(
    engine: Engine,
    event_id: str,
    people: Mapping[str, tuple[str, int | None]],
    *,
    on: str = "2020-01-01",
    band: str | None = "under16",
    source: str = "force_a",
    kind: str = "crime",
    outcome: str | None = None,
) -> None:
    """One event in ``source`` with its people: person id → (role, age at the event). Each
    person has one record per source, ``source:person``, linked to that person."""
    sexual = band is not None if kind == "crime" else None
    engine.execute(
        "INSERT INTO event (event_id, source, local_id, kind, event_date, is_sexual, "
        "victim_age_band, outcome_category, cse_flag) VALUES (?, ?, ?, ?, ?, ?, ?, ?, false)",
        [f"{source}:{event_id}", source, event_id, kind, on, sexual, band, outcome],
    )
    for person, (role, age) in people.items():
        record = link_record(engine, source, person)
        engine.execute(
            "INSERT INTO involvement (source, event_id, record_id, role, age_at_event) "
            "VALUES (?, ?, ?, ?, ?)",
            [source, f"{source}:{event_id}", record, role, age],
        )


def link_record(engine: Engine, source: str, person: str, record: str | None = None) -> str:
    """Link record ``source:person`` (or ``record``) to ``person``, once; return its id."""
    record_id = record or f"{source}:{person}"
    if not engine.scalar("SELECT count(*) FROM person_link WHERE record_id = ?", [record_id]):
        engine.execute("INSERT INTO person_link VALUES (?, ?, 1.0)", [record_id, person])
    return record_id
