"""The shipped rules on records as real extracts write them, not as the generator does: blanks
said another way, kinds spelt otherwise, duty reports held by a force, sections without offence
codes."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from casebridge.audit.prepare import prepare as prepare_audit
from casebridge.engine import Engine
from casebridge.ingest.run import ingest
from casebridge.networks.run import build_networks
from casebridge.screen.rules import Rule
from casebridge.screen.run import screen
from casebridge.standard.codelists import load_code_lists
from casebridge.workspace import (
    NetworkSettings,
    VocabularySettings,
    init_workspace,
    open_workspace,
)
from tests.screen.world import World


def _suspect(world: World, **recorded: object) -> None:
    suspect = world.record("force_a:S1", "P1", **recorded)  # type: ignore[arg-type]
    world.case("force_a:E1", suspect, world.record("force_a:V1", "C1"))


R7_UNRECORDED = {
    "ethnicity not stated": {"ethnicity": "NS", "raw": {"ethnicity_self": "Not stated"}},
    "officer-defined unknown": {"ethnicity": None, "officer": "IC9"},
    "not stated, and IC0": {"ethnicity": "NS", "officer": "IC0"},
    "nationality 'Unknown'": {"nationality": None, "raw": {"nationality": "Unknown"}},
}
R7_RECORDED = {
    "officer-defined only": {"ethnicity": None, "officer": "IC3"},
    "a broad group in words": {"ethnicity": "NS", "raw": {"ethnicity_self": "Asian"}},
    "self-defined and a country": {},
}


@pytest.mark.parametrize("recorded", R7_UNRECORDED.values(), ids=R7_UNRECORDED.keys())
def test_r7_reads_a_blank_said_another_way_as_not_recorded(
    world: World, shipped: list[Rule], recorded: dict[str, object]
) -> None:
    _suspect(world, **recorded)
    screen(world.engine, shipped)
    assert world.fired("R7") == {"event:force_a:E1"}


@pytest.mark.parametrize("recorded", R7_RECORDED.values(), ids=R7_RECORDED.keys())
def test_r7_keeps_quiet_for_a_recorded_value(
    world: World, shipped: list[Rule], recorded: dict[str, object]
) -> None:
    _suspect(world, **recorded)
    screen(world.engine, shipped)
    assert world.fired("R7") == set()


def test_r7_and_the_audit_agree_on_what_is_recorded(world: World, shipped: list[Rule]) -> None:
    for number, recorded in enumerate([*R7_UNRECORDED.values(), *R7_RECORDED.values()]):
        suspect = world.record(f"force_a:S{number}", f"P{number}", **recorded)  # type: ignore[arg-type]
        world.case(f"force_a:E{number}", suspect, world.record(f"force_a:V{number}", "C1"))
    screen(world.engine, shipped)
    load_code_lists(world.engine)
    prepare_audit(world.engine)
    flagged = world.engine.query(
        "SELECT record_id FROM review_evidence WHERE rule_id = 'R7' AND role = 'suspect'"
    )
    unrecorded = world.engine.query(
        "SELECT record_id FROM audit_record WHERE record_id LIKE 'force_a:S%' AND ("
        "(ethnicity_group IS NULL AND ic_code IS NULL) OR nationality IS NULL)"
    )
    assert sorted(flagged) == sorted(unrecorded) and len(flagged) == len(R7_UNRECORDED)


@pytest.mark.parametrize("kind", ["missing_episode", "Missing Episode", "missing-person"])
def test_r5_counts_missing_episodes_however_the_source_spells_them(
    world: World, shipped: list[Rule], kind: str
) -> None:
    world.case("force_a:E1", world.record("force_a:S1", "P1"),
               world.record("force_a:V1", "C1", name=("amy", "jones"), sex="F"))  # fmt: skip
    child = world.record("la:K1", "C1", name=("amy", "jones"), sex="F")
    for number in range(3):
        world.involve(world.episode(f"la:M{number}", kind, dt.date(2020, 1, 1 + number)),
                      child, "subject", 14)  # fmt: skip
    screen(world.engine, shipped)
    assert world.fired("R5") == {"person:C1"}


def test_the_vocabulary_names_a_local_kind(world: World, shipped: list[Rule]) -> None:
    world.case("force_a:E1", world.record("force_a:S1", "P1"),
               world.record("force_a:V1", "C1", name=("amy", "jones"), sex="F"))  # fmt: skip
    child = world.record("la:K1", "C1", name=("amy", "jones"), sex="F")
    for number in range(3):
        world.involve(world.episode(f"la:M{number}", "MFH", dt.date(2020, 1, 1 + number)),
                      child, "subject", 14)  # fmt: skip
    screen(world.engine, shipped)
    assert world.fired("R5") == set()
    screen(world.engine, shipped, VocabularySettings(missing_kinds=("mfh",)))
    assert world.fired("R5") == {"person:C1"}


def _known_from_a_theft(world: World) -> None:
    theft = world.crime("force_a:T1", "46", outcome="1", penetrative=False)
    world.involve(theft, world.record("force_a:S9", "P1", name=("jack", "ball"),
                                      born=dt.date(1980, 3, 1)), "suspect", 38)  # fmt: skip


def _report(world: World, ref: str, kind: str) -> None:
    report = world.episode(ref, kind)
    world.involve(report, world.record(f"{ref}-S1", "P1", name=("jack", "ball")), "suspect", 40)
    world.involve(report, world.record(f"{ref}-C", "C1", name=("amy", "jones"), sex="F"),
                  "victim", 14)  # fmt: skip


@pytest.mark.parametrize(("ref", "kind"), [("dtr:D1", "report"), ("force_b:D1", "Duty Report")])
def test_r6_fires_on_a_report_however_held_or_spelt(
    world: World, shipped: list[Rule], ref: str, kind: str
) -> None:
    """A force may hold the duty reports it receives: the report is not its own
    investigation, so R6 still asks whether the police investigated the man for the child."""
    _known_from_a_theft(world)
    _report(world, ref, kind)
    screen(world.engine, shipped)
    assert world.fired("R6") == {f"event:{ref}"}


def test_r6_keeps_quiet_for_a_man_known_to_police_only_through_the_report(
    world: World, shipped: list[Rule]
) -> None:
    _report(world, "force_b:D1", "duty_report")
    screen(world.engine, shipped)
    assert world.fired("R6") == set()


def test_r8_reads_a_cse_assessment_however_spelt(world: World, shipped: list[Rule]) -> None:
    world.case("force_a:E1", world.record("force_a:S1", "PN1", name=("jack", "ball")),
               world.record("force_a:V1", "C1", name=("amy", "jones"), sex="F"))  # fmt: skip
    assessment = world.episode("la:A1", "CSE_Risk_Assessment")
    world.involve(assessment, world.record("la:K1", "C1", name=("amy", "jones"), sex="F"),
                  "subject", 14)  # fmt: skip
    world.involve(assessment, world.record("la:L1", "PN1", name=("jack", "ball")),
                  "person_of_concern", 31)  # fmt: skip
    screen(world.engine, shipped)
    assert world.fired("R8") == {"person:PN1"}


MAPPING = """\
source: force_s
format: csv
event:
  local_id: Ref
  kind: {constant: crime}
  date: {column: Date, formats: ["%d/%m/%Y"]}
  offence: HO
  section: Section
  outcome: Outcome
persons:
  - local_id: Person
    role: Role
    full_name: {column: Name, order: forenames_first}
    approx_age: Age
"""
# a force that records the Sexual Offences Act section and no Home Office offence code
EXTRACT = """\
Ref,Date,HO,Section,Outcome,Person,Role,Name,Age
E1,01/06/2020,,S.1(1),16,P1,Suspect,Jack Ball,30
E1,01/06/2020,,S.1(1),16,C1,Victim,Amy Jones,14
E2,01/06/2020,,Section 9(2),1,P2,Suspect,Omar Khan,31
E2,01/06/2020,,Section 9(2),1,C2,Victim,Zoe Hall,14
E3,01/06/2020,,s1,1,P3,Suspect,Dan Cole,40
E3,01/06/2020,,s1,1,C3,Victim,Ann Lee,15
E4,01/06/2020,,s 15A,16,P4,Suspect,Ian Ross,29
E4,01/06/2020,,s 15A,16,C4,Victim,Eve Day,13
E5,01/06/2020,22B,s1,16,P5,Suspect,Tom Webb,35
E5,01/06/2020,22B,s1,16,C5,Victim,Kim Fox,14
"""


def _section_only_force(root: Path) -> Engine:
    init_workspace(root)
    (root / "extracts").mkdir()
    (root / "extracts" / "crimes.csv").write_text(EXTRACT, encoding="utf-8")
    (root / "mappings" / "force_s.yaml").write_text(textwrap.dedent(MAPPING), encoding="utf-8")
    with (root / "casebridge.toml").open("a", encoding="utf-8") as settings:
        settings.write('\n[[sources]]\nkey = "force_s"\nagency = "Southshire Police"\n'
                       'kind = "police"\npath = "extracts/crimes.csv"\n'
                       'mapping = "mappings/force_s.yaml"\n')  # fmt: skip
    ingest(open_workspace(root))
    engine = open_workspace(root).connect()
    engine.execute("CREATE TABLE person_link AS SELECT record_id, record_id AS person_id, "
                   "1.0 AS probability FROM person_record")  # fmt: skip
    engine.execute("CREATE TABLE person AS SELECT record_id AS person_id, "
                   "CAST(NULL AS DATE) AS date_of_birth FROM person_record")  # fmt: skip
    return engine


def test_a_section_without_an_offence_code_says_what_the_offence_is(
    tmp_path: Path, shipped: list[Rule]
) -> None:
    engine = _section_only_force(tmp_path / "ws")
    try:
        facts = engine.query(
            "SELECT local_id, soa_section, is_sexual, victim_age_band, is_penetrative "
            "FROM event ORDER BY local_id"
        )
        assert facts == [
            ("E1", "s1(1)", True, "any", True),
            ("E2", "s9(2)", True, "under16", True),
            ("E3", "s1", True, "any", True),
            ("E4", "s15a", True, "under16", False),
            ("E5", "s1", True, "under16", None),  # the offence code decides, not the section
        ]
        build_networks(engine, NetworkSettings())
        screen(engine, shipped)
        fired = engine.query(
            "SELECT rule_id, list_sort(list(subject_id)) FROM review_reason "
            "WHERE rule_id IN ('R1', 'R2') GROUP BY rule_id ORDER BY rule_id"
        )
    finally:
        engine.close()
    # R1: rape closed without charge (E1), penetration charged as s9(2) (E2); a rape charged as
    # rape is not (E3, s1 given as s1(1) or s1 alike); E4 is not penetrative
    assert fired == [
        ("R1", ["force_s:E1", "force_s:E2"]),
        ("R2", ["force_s:E1", "force_s:E4", "force_s:E5"]),
    ]


def test_r6_finds_the_namesake_of_a_man_named_in_a_report_a_force_holds(
    world: World, shipped: list[Rule]
) -> None:
    theft = world.crime("force_a:T1", "46", outcome="1", penetrative=False)
    world.involve(theft, world.record("force_a:S9", "P1", name=("jackk", "ball"),
                                      born=dt.date(1980, 3, 1)), "suspect", 38)  # fmt: skip
    report = world.episode("force_b:D1", "duty_report")
    world.involve(report, world.record("force_b:D1-S1", None, name=("jack", "ball")),
                  "suspect", 40)  # fmt: skip
    world.involve(report, world.record("force_b:D1-C", None, name=("amy", "jones"), sex="F"),
                  "victim", 14)  # fmt: skip
    screen(world.engine, shipped)
    assert world.fired("R6") == {"event:force_b:D1"}
