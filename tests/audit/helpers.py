"""A tiny linked workspace, built row by row in an in-memory engine."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from casebridge.engine import Engine
from casebridge.ingest.run import ingest
from casebridge.standard.codelists import load_code_lists
from casebridge.standard.tables import create_tables
from casebridge.synth.generate import generate
from casebridge.synth.profile import load_profile
from casebridge.workspace import open_workspace

# names, birth dates and addresses no report or export may ever show
SECRET_NAMES = ("Zorblatt", "Quixandra", "Vexmoor", "Ptolemina")
SECRET_DOB = "1983-07-19"
SECRET_ADDRESS = "17 Quillfeather Lane"

# record_id, source, person, ethnicity_self (raw), ic, nationality, dob
RECORDS = [
    ("a:1", "a", "P1", "A2", None, "GBR", SECRET_DOB),
    ("b:1", "b", "P1", None, "IC4", None, None),  # same person, officer-defined only
    ("a:2", "a", "P2", None, None, None, None),  # nothing recorded
    ("c:1", "c", "P3", "Asian", None, "PAK", None),  # a broad group only
    ("a:3", "a", "P4", "W1", None, "GBR", None),  # a victim
    ("a:4", "a", "P5", "NS", None, None, None),  # not stated
]
# event_id, source, kind, date, offence, is_sexual, band, outcome
EVENTS = [
    ("a:E1", "a", "crime", "2019-05-01", "22B", True, "under16", "16"),
    ("b:E1", "b", "crime", "2020-01-10", "105A", False, "any", None),
    ("c:E1", "c", "crime", "1890-01-01", "30C", False, "any", "1"),  # out of range
]
# event, record, role, age
INVOLVEMENTS = [
    ("a:E1", "a:1", "suspect", 30),
    ("a:E1", "a:2", "suspect", None),
    ("a:E1", "a:3", "victim", 14),
    ("b:E1", "b:1", "suspect", 31),
    ("c:E1", "c:1", "suspect", 40),
    ("c:E1", "a:4", "suspect", 25),
]


def tiny_workspace(linked: bool = True) -> Engine:
    """Three sources, five persons, one child sexual offence; linkage optional."""
    engine = Engine()
    create_tables(engine)
    load_code_lists(engine)
    for source, agency, kind, quarantined in (
        ("a", "Force A", "police", 1),
        ("b", "Force B", "police", 0),
        ("c", "Council C", "social_care", 0),
    ):
        engine.execute(
            "INSERT INTO source (source, agency, kind, file_name, extracted_at, rows_read, "
            "rows_loaded, rows_quarantined, values_set_aside) "
            "VALUES (?, ?, ?, ?, DATE '2025-06-30', 12, ?, ?, 0)",
            [source, agency, kind, f"{source}.csv", 12 - quarantined, quarantined],
        )
    names = iter(SECRET_NAMES * 3)
    for record_id, source, _, ethnicity, ic, nationality, dob in RECORDS:
        engine.execute(
            "INSERT INTO person_record (record_id, source, local_id, forename, surname, "
            "full_name_raw, date_of_birth, dob_raw, ethnicity_self, ethnicity_self_raw, "
            "ethnicity_officer, ethnicity_officer_raw, nationality, nationality_raw, address) "
            "VALUES (?, ?, ?, ?, ?, ?, CAST(? AS DATE), ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                record_id,
                source,
                record_id.split(":")[1],
                next(names),
                next(names),
                "X",
                dob,
                dob,
                _standard(ethnicity),
                ethnicity,
                ic,
                ic,
                nationality,
                nationality,
                SECRET_ADDRESS,
            ],
        )
    for event_id, source, kind, date, offence, sexual, band, outcome in EVENTS:
        engine.execute(
            "INSERT INTO event (event_id, source, local_id, kind, event_date, offence_code, "
            "offence_raw, is_sexual, victim_age_band, outcome_code, outcome_raw) "
            "VALUES (?, ?, ?, ?, CAST(? AS DATE), ?, ?, ?, ?, ?, ?)",
            [
                event_id,
                source,
                event_id,
                kind,
                date,
                offence,
                offence,
                sexual,
                band,
                outcome,
                outcome,
            ],
        )
    for row, (event_id, record_id, role, age) in enumerate(INVOLVEMENTS, 2):
        source = record_id.split(":")[0]
        engine.execute(
            "INSERT INTO involvement (source, event_id, record_id, file_name, row_number, role, "
            "role_raw, age_at_event) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [source, event_id, record_id, f"{source}.csv", row, role, role, age],
        )
        # the source row naming the person: it holds what the record holds
        engine.execute(
            "INSERT INTO person_observation (source, file_name, row_number, block, record_id, "
            "local_id, event_id, role_raw, role, ethnicity_self_raw, ethnicity_self, "
            "ethnicity_officer_raw, ethnicity_officer, nationality_raw, nationality, "
            "date_of_birth_raw, date_of_birth) SELECT source, ?, ?, 1, record_id, local_id, ?, ?, "
            "?, ethnicity_self_raw, ethnicity_self, ethnicity_officer_raw, ethnicity_officer, "
            "nationality_raw, nationality, dob_raw, date_of_birth FROM person_record "
            "WHERE record_id = ?",
            [f"{source}.csv", row, event_id, role, role, record_id],
        )
    engine.execute(
        "INSERT INTO quarantine VALUES ('a', 'a.csv', 3, 'Zorblatt,,', ['too few fields'])"
    )
    if linked:
        engine.execute(
            "CREATE TABLE person_link (record_id VARCHAR, person_id VARCHAR, probability DOUBLE)"
        )
        for record_id, _, person, *_ in RECORDS:
            engine.execute("INSERT INTO person_link VALUES (?, ?, 1.0)", [record_id, person])
    return engine


def _standard(raw: str | None) -> str | None:
    """What ingest makes of the raw ethnicity: codes kept, a broad word no code (a finding)."""
    return None if raw == "Asian" else raw


def small_synthetic_workspace(root: Path) -> Path:
    """250 synthetic people, ingested; persons, networks, a review queue and a review band
    taken from the truth (the attack needs every table, not a good linkage)."""
    generate(250, 11, load_profile("default"), root)
    ingest(open_workspace(root))
    engine = Engine(root / "casebridge.duckdb")
    try:
        _stages_from_truth(engine, root / "truth")
    finally:
        engine.close()
    return root


def _stages_from_truth(engine: Engine, truth: Path) -> None:
    records = pl.read_parquet(truth / "record_person.parquet").select(
        record_id=pl.format("{}:{}", "source", "local_id"),
        person_id="person_id",
        probability=pl.lit(1.0),
    )
    engine.create_table_from_arrow("person_link", records)
    members = pl.read_parquet(truth / "network_member.parquet").with_columns(
        events=pl.lit(1), centrality=pl.lit(0.5)
    )
    engine.create_table_from_arrow("network_member", members)
    engine.execute(
        """CREATE TABLE network AS SELECT network_id,
            count(*) FILTER (WHERE role = 'suspect') AS suspects,
            count(*) FILTER (WHERE role = 'victim') AS victims, 1 AS events,
            1 + length(network_id) % 3 AS sources, 1 AS forces,
            DATE '2015-01-01' AS first_date,
            DATE '2015-01-01' + CAST(97 * count(*) AS INTEGER) AS last_date
        FROM network_member GROUP BY network_id"""
    )
    targets = pl.read_parquet(truth / "review_target.parquet")
    engine.create_table_from_arrow(
        "review_item",
        targets.select(
            item_id="target_id",
            rules=pl.concat_list("rule"),
            priority=(pl.int_range(pl.len()) % 13).cast(pl.Float64),
        ),
    )
    engine.execute(
        """CREATE TABLE match_pair AS SELECT l.record_id AS record_l, r.record_id AS record_r,
            0.3 + (hash(l.record_id || r.record_id) % 70) / 100.0 AS match_probability
        FROM person_link l JOIN person_link r
            ON l.person_id = r.person_id AND l.record_id < r.record_id"""
    )
    engine.execute(
        """INSERT INTO match_judgement SELECT record_l, record_r,
            CASE WHEN hash(record_l) % 5 = 0 THEN 'different' ELSE 'same' END AS verdict,
            'test' AS reason, 'tester' AS judged_by, TIMESTAMP '2025-01-01' AS judged_at
        FROM match_pair WHERE hash(record_r) % 4 = 0"""
    )
