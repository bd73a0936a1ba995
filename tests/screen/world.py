"""Tiny hand-built workspaces for screening tests: an in-memory engine with the standard tables,
the resolved persons and the networks, and a few lines per record, event and involvement."""

from __future__ import annotations

import datetime as dt

from casebridge.engine import Engine
from casebridge.standard.codelists import OUTCOME_COLUMNS
from casebridge.standard.datafiles import OFFENCE_COLUMNS, read_standard
from casebridge.standard.tables import create_tables

RESOLVED = {
    "person": "person_id VARCHAR, date_of_birth DATE",
    "person_link": "record_id VARCHAR, person_id VARCHAR, probability DOUBLE",
    "match_pair": "record_l VARCHAR, record_r VARCHAR, match_probability DOUBLE",
    "network": """network_id VARCHAR, suspects INT, victims INT, events INT, sources INT,
        forces INT, first_date DATE, last_date DATE, central_suspects VARCHAR[]""",
    "network_member": """network_id VARCHAR, person_id VARCHAR, role VARCHAR, events INT,
        centrality DOUBLE""",
}
SOURCES = {
    "force_a": ("Northshire Police", "police"),
    "force_b": ("Eastmoor Constabulary", "police"),
    "la": ("Northshire County Council", "social_care"),
    "dtr": ("Duty to report service", "duty_report"),
}
OUTCOME_CATEGORY = {row["code"]: row["category"]
                    for row in read_standard("outcome_codes", OUTCOME_COLUMNS)}  # fmt: skip
DAY = dt.date(2020, 6, 1)


class World:
    """A workspace in memory; records are linked to the person given (or stay their own)."""

    def __init__(self) -> None:
        self.engine = Engine()
        create_tables(self.engine)
        for name, columns in RESOLVED.items():
            self.engine.execute(f"CREATE TABLE {name} ({columns})")
        for source, (agency, kind) in SOURCES.items():
            self.engine.execute(
                "INSERT INTO source (source, agency, kind) VALUES (?, ?, ?)", [source, agency, kind]
            )
        self.offences = {row["ho_code"]: row for row in read_standard("offences", OFFENCE_COLUMNS)}

    def record(
        self,
        ref: str,
        person: str | None = None,
        *,
        name: tuple[str, str] = ("alan", "smith"),
        born: dt.date | None = None,
        precision: str = "day",
        ethnicity: str | None = "A2",
        nationality: str | None = "GBR",
        sex: str = "M",
        officer: str | None = None,
        raw: dict[str, str] | None = None,
    ) -> str:
        """Add person record ``source:local_id``, linked to ``person`` (or to a person of its
        own, as linking leaves a record it matched to nobody). Raw values are the standard
        ones unless ``raw`` gives them (``{"nationality": "Unknown"}``)."""
        source, local_id = ref.split(":", 1)
        given = {"ethnicity_self": ethnicity, "ethnicity_officer": officer,
                 "nationality": nationality, **(raw or {})}  # fmt: skip
        self.engine.execute(
            "INSERT INTO person_record (record_id, source, local_id, forename, surname, "
            "forename_phonetic, surname_phonetic, date_of_birth, dob_precision, sex, "
            "ethnicity_self, ethnicity_self_raw, ethnicity_officer, ethnicity_officer_raw, "
            "nationality, nationality_raw) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [ref, source, local_id, name[0], name[1], name[0][:2], name[1][:2], born,
             precision if born else None, sex,
             ethnicity, given["ethnicity_self"], officer, given["ethnicity_officer"],
             nationality, given["nationality"]],
        )  # fmt: skip
        person = person or f"own-{ref}"
        self.engine.execute("INSERT INTO person_link VALUES (?, ?, 1.0)", [ref, person])
        if not self.engine.scalar("SELECT count(*) FROM person WHERE person_id = ?", [person]):
            self.engine.execute("INSERT INTO person VALUES (?, ?)", [person, born])
        return ref

    def crime(
        self,
        ref: str,
        offence: str = "22B",
        *,
        outcome: str | None = "16",
        penetrative: bool | None = True,
        day: dt.date = DAY,
        kind: str = "crime",
        cse_flag: bool = False,
        section: str | None = None,
    ) -> str:
        """Add event ``source:local_id`` with the offence code's facts from the code list (its
        section replaced by ``section`` when given, as a force that records one)."""
        source, local_id = ref.split(":", 1)
        facts = self.offences.get(offence)
        if facts and section:
            facts = {**facts, "soa_section": section}
        self.engine.execute(
            "INSERT INTO event (event_id, source, local_id, kind, event_date, offence_code, "
            "soa_section, is_sexual, is_penetrative, victim_age_band, outcome_code, "
            "outcome_label, outcome_category, cse_flag) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [ref, source, local_id, kind, day, offence if facts else None,
             facts["soa_section"] if facts else None, facts["is_sexual"] == "true" if facts
             else None, penetrative, facts["victim_age_band"] if facts else None, outcome,
             f"outcome {outcome}" if outcome else None, OUTCOME_CATEGORY.get(outcome or ""),
             cse_flag],
        )  # fmt: skip
        return ref

    def episode(self, ref: str, kind: str, day: dt.date = DAY) -> str:
        """Add a non-crime event (referral, missing, cse_assessment, duty_report)."""
        return self.crime(ref, "", outcome=None, penetrative=None, day=day, kind=kind)

    def involve(self, event: str, record: str, role: str, age: int | None = None) -> None:
        """Name ``record`` in ``event`` with ``role`` and an age at the event."""
        source = event.split(":", 1)[0]
        self.engine.execute(
            "INSERT INTO involvement (source, event_id, record_id, role, age_at_event) "
            "VALUES (?, ?, ?, ?, ?)",
            [source, event, record, role, age],
        )

    def case(self, ref: str, suspect: str, victim: str, offence: str = "22B", **how: object) -> str:
        """A police crime with one suspect (aged 30) and one child victim (aged 14)."""
        event = self.crime(ref, offence, **how)  # type: ignore[arg-type]
        self.involve(event, suspect, "suspect", 30)
        self.involve(event, victim, "victim", 14)
        return event

    def network(self, network_id: str, suspects: list[str], victims: list[str]) -> None:
        """A network of these persons (roles suspect and victim)."""
        self.engine.execute(
            "INSERT INTO network (network_id, suspects, victims) VALUES (?, ?, ?)",
            [network_id, len(suspects), len(victims)],
        )
        for role, people in (("suspect", suspects), ("victim", victims)):
            for person in people:
                self.engine.execute(
                    "INSERT INTO network_member VALUES (?, ?, ?, 1, 0.0)",
                    [network_id, person, role],
                )

    def match(self, left: str, right: str, probability: float) -> None:
        """A pair the linker scored but did not link."""
        self.engine.execute("INSERT INTO match_pair VALUES (?, ?, ?)", [left, right, probability])

    def fired(self, rule: str) -> set[str]:
        """Item ids on which ``rule`` fired (after a screen run)."""
        rows = self.engine.query("SELECT item_id FROM review_reason WHERE rule_id = ?", [rule])
        return {row[0] for row in rows}
